/** One remote file of `size` bytes is more than `max`: REMOTE_CORRUPT naming it. */
export function tooLargeMessage(key: string, url: string, size: number, max: number): string {
  return `remote file ${key} on ${url} is ${size} bytes, more than the ${max} a file of its kind may have`;
}
