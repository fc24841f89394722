import { MvmError } from '../../errors.js';
import { tooLargeMessage } from './limits.js';

/**
 * Reads a response body of `length` expected bytes straight into one buffer
 * (no list of pieces, no second copy). Returns a shorter buffer when the body
 * ended early; a body longer than asked for is REMOTE_CORRUPT.
 */
export async function readBody(
  body: AsyncIterable<Uint8Array>,
  length: number,
  what: { url: string; key: string },
): Promise<Buffer> {
  const out = Buffer.allocUnsafe(length);
  let got = 0;
  for await (const piece of body) {
    if (got + piece.length > length)
      throw new MvmError('REMOTE_CORRUPT', `the server sent more of ${what.key} than was asked for`, {
        ...what,
        hint: 'check --endpoint: the server does not honour ranged reads',
      });
    out.set(piece, got);
    got += piece.length;
  }
  return got === length ? out : out.subarray(0, got);
}

/**
 * Reads a whole response body, refusing it as REMOTE_CORRUPT once it passes `max` bytes (a server may not say its
 * length).
 */
export async function readAll(
  body: AsyncIterable<Uint8Array>,
  max: number,
  what: { url: string; key: string },
): Promise<Buffer> {
  const pieces: Uint8Array[] = [];
  let got = 0;
  for await (const piece of body) {
    got += piece.length;
    if (got > max)
      throw new MvmError('REMOTE_CORRUPT', tooLargeMessage(what.key, what.url, got, max), {
        ...what,
        max,
        hint: 'the remote is damaged; remove or repair that file',
      });
    pieces.push(piece);
  }
  return Buffer.concat(pieces, got);
}

/** Drops a response body not read (a refused size), so its connection is not left waiting. */
export function discard(body: unknown): void {
  (body as { destroy?: () => void } | undefined)?.destroy?.();
}
