import { readFileSync } from 'node:fs';
import { type MvmError, fromSystemError } from '../errors.js';

/**
 * Reads a small JSON file: null when it does not exist, the `bad()` error
 * when it is not JSON, other failures through the errno mapping.
 */
export function readJsonFile(path: string, bad: () => MvmError): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw fromSystemError(e, path, 'reading');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw bad();
  }
}
