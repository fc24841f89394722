import { MvmError } from '../../src/errors.js';

/** The MvmError code `fn` throws, null when it does not throw, or a marker for any other error. */
export function codeOf(fn: () => unknown): string | null {
  try {
    fn();
  } catch (e) {
    return e instanceof MvmError ? e.code : `non-MvmError: ${String(e)}`;
  }
  return null;
}
