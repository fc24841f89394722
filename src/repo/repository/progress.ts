/** Progress callbacks that long operations call; the CLI draws them on a TTY. */
export interface Progress {
  start?(label: string, total: number): void;
  advance?(n: number): void;
  done?(): void;
}
