import { closeSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openForReading, readFully } from '../../../src/storage/readFully.js';

const dir = mkdtempSync(join(tmpdir(), 'mvm-readfully-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('readFully and openForReading', () => {
  it('reads what is asked from a position, fewer bytes only where the file ends', () => {
    const path = join(dir, 'f');
    writeFileSync(path, Buffer.from('0123456789'));
    const fd = openForReading(path)!;
    try {
      const buf = Buffer.alloc(6);
      expect(readFully(fd, buf, 2)).toBe(6);
      expect(buf.toString()).toBe('234567');
      // a length shorter than the buffer fills its start only
      buf.fill(0x2e);
      expect(readFully(fd, buf, 0, 3)).toBe(3);
      expect(buf.toString()).toBe('012...');
      // past the end: what there is
      expect(readFully(fd, buf, 7)).toBe(3);
      expect(buf.subarray(0, 3).toString()).toBe('789');
      expect(readFully(fd, buf, 10)).toBe(0);
    } finally {
      closeSync(fd);
    }
  });

  it('openForReading is null for a missing file and never throws', () => {
    expect(openForReading(join(dir, 'missing'))).toBeNull();
    mkdirSync(join(dir, 'sub'));
    // a folder opens on Linux (reads fail with EISDIR); either way nothing is thrown here
    const fd = openForReading(join(dir, 'sub'));
    if (fd !== null) {
      expect(() => readFully(fd, Buffer.alloc(1), 0)).toThrow(/EISDIR/);
      closeSync(fd);
    }
  });
});
