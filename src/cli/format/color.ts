/**
 * Colour on a terminal: on when stdout is a TTY, off with NO_COLOR (any
 * value) or when piped, forced with FORCE_COLOR (any value but 0). `paint`
 * marks text with placeholder characters from the private-use area; `print`
 * escapes control characters first and only then turns the marks into SGR
 * sequences, so text from a repository can never carry its own escapes.
 */

/** The colours mvm uses, by meaning. */
const SGR = {
  added: '32', // green
  removed: '31', // red
  modified: '33', // yellow
  better: '32',
  worse: '31',
  branch: '32',
  head: '36', // cyan
  tag: '33',
  deployed: '35', // magenta
  remote: '31',
  id: '33',
  dim: '2',
} as const;

export type Paint = keyof typeof SGR;
const KINDS = Object.keys(SGR) as Paint[];
const OPEN = 0xe000;
const CLOSE = '\ue0ff';

/** Whether colour is on for stdout. */
export function colorEnabled(): boolean {
  const force = process.env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  if (process.env.NO_COLOR) return false;
  return !!process.stdout.isTTY;
}

/** Marks `text` to be shown in the colour of `kind` (a no-op when colour is off). */
export function paint(kind: Paint, text: string): string {
  if (!colorEnabled() || !text) return text;
  return String.fromCharCode(OPEN + KINDS.indexOf(kind)) + text + CLOSE;
}

/** Turns paint marks into SGR sequences (or removes them when colour is off). */
export function renderPaint(text: string): string {
  const on = colorEnabled();
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\ue000-\ue0ff]/g, (c) => {
    if (!on) return '';
    if (c === CLOSE) return '\x1b[0m';
    const kind = KINDS[c.charCodeAt(0) - OPEN];
    return kind ? `\x1b[${SGR[kind]}m` : '';
  });
}

/** Text without paint marks (for Markdown and CSV). */
export function stripPaint(text: string): string {
  return text.replace(/[\ue000-\ue0ff]/g, '');
}
