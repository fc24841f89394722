/** How the query layers report bad input: BAD_EXPRESSION errors with a position, and the caret rendering of one. */
import { MvmError } from '../../errors.js';

/** Throws MvmError BAD_EXPRESSION carrying the expression, the 0-based `position` and an optional hint. */
export function fail(source: string, position: number, message: string, hint?: string): never {
  const data: { expression: string; position: number; hint?: string } = { expression: source, position };
  if (hint !== undefined) data.hint = hint;
  throw new MvmError('BAD_EXPRESSION', message, data);
}

/** Renders the source and a caret under `position` as two lines, for printing under a BAD_EXPRESSION error. */
export function formatQueryError(source: string, position: number): string {
  const shown = source.replace(/[\t\n\r\v\f]/g, ' ');
  const at = Math.max(0, Math.min(Number.isFinite(position) ? Math.trunc(position) : 0, shown.length));
  return `${shown}\n${' '.repeat(at)}^`;
}
