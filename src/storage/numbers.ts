import { appendFileSync, readFileSync } from 'node:fs';
import { fromSystemError } from '../errors.js';

const LINE = 65; // 64 hex digits + newline

/**
 * NumberLog is the append-only file `.mvm/numbers` that gives versions their
 * short numbers: line N holds the id of vN. It is primary data (numbers are
 * local to this repository), so it is never rebuilt, only appended to.
 * A line torn by a crash is padded with '-' on the next append and its number
 * is never handed out again; readAll reports it as null.
 */
export class NumberLog {
  constructor(readonly path: string) {}

  private text(): string {
    try {
      return readFileSync(this.path, 'latin1');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return '';
      throw fromSystemError(e, this.path, 'reading');
    }
  }

  /** Every number's id, index 0 holding v1; null for a burned (torn) line. */
  readAll(): (string | null)[] {
    const text = this.text();
    const out: (string | null)[] = [];
    const full = Math.floor(text.length / LINE);
    for (let i = 0; i < full; i++) {
      const line = text.slice(i * LINE, i * LINE + 64);
      out.push(text[i * LINE + 64] === '\n' && /^[0-9a-f]{64}$/.test(line) ? line : null);
    }
    return out;
  }

  /** Appends an id and returns its number. Call with the repository lock held. */
  append(id: string): number {
    const len = this.text().length;
    const torn = len % LINE;
    const pad = torn === 0 ? '' : '-'.repeat(LINE - 1 - torn) + '\n';
    try {
      appendFileSync(this.path, pad + id + '\n', 'latin1');
    } catch (e) {
      throw fromSystemError(e, this.path, 'writing');
    }
    return (len + pad.length) / LINE + 1;
  }
}
