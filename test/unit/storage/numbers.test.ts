import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtempSync, rmSync, appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NumberLog } from '../../../src/storage/numbers.js';

const id = (n: number) => n.toString(16).padStart(64, '0');

let dir = '';
let path = '';

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-numbers-'));
  path = join(dir, 'numbers');
});

afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('NumberLog', () => {
  it('readAll of a missing file is []', () => {
    expect(new NumberLog(path).readAll()).toEqual([]);
  });

  it('append hands out 1, 2, 3 and readAll lists the ids in order', () => {
    const log = new NumberLog(path);
    expect(log.append(id(1))).toBe(1);
    expect(log.append(id(2))).toBe(2);
    expect(log.append(id(3))).toBe(3);
    expect(log.readAll()).toEqual([id(1), id(2), id(3)]);
    expect(readFileSync(path, 'latin1')).toBe(`${id(1)}\n${id(2)}\n${id(3)}\n`);
  });

  it('a new NumberLog on the same file continues the numbering', () => {
    new NumberLog(path).append(id(1));
    new NumberLog(path).append(id(2));
    expect(new NumberLog(path).append(id(3))).toBe(3);
  });

  it('ignores a torn partial line in readAll until the next append', () => {
    const log = new NumberLog(path);
    log.append(id(1));
    log.append(id(2));
    log.append(id(3));
    appendFileSync(path, 'abc1');
    expect(log.readAll()).toEqual([id(1), id(2), id(3)]);
  });

  it('burns the number of a torn line: it becomes null and is never reused', () => {
    const log = new NumberLog(path);
    log.append(id(1));
    log.append(id(2));
    log.append(id(3));
    appendFileSync(path, 'abc1'); // a crash in the middle of writing v4
    expect(log.append(id(5))).toBe(5);
    expect(log.readAll()).toEqual([id(1), id(2), id(3), null, id(5)]);
    expect(log.append(id(6))).toBe(6);
    expect(log.readAll()).toEqual([id(1), id(2), id(3), null, id(5), id(6)]);
    // the file stays aligned on 65-byte lines
    expect(readFileSync(path, 'latin1').length).toBe(6 * 65);
  });

  it('burns a torn line at the very start of the file', () => {
    appendFileSync(path, 'de');
    const log = new NumberLog(path);
    expect(log.append(id(9))).toBe(2);
    expect(log.readAll()).toEqual([null, id(9)]);
  });

  it('burns a torn line of 63 hex digits', () => {
    const log = new NumberLog(path);
    log.append(id(1));
    appendFileSync(path, id(2).slice(0, 63));
    expect(log.append(id(3))).toBe(3);
    expect(log.readAll()).toEqual([id(1), null, id(3)]);
  });

  it('reports a full-length line that is not a valid id as null', () => {
    writeFileSync(path, `${id(1)}\n${'z'.repeat(64)}\n${id(3)}\n`);
    expect(new NumberLog(path).readAll()).toEqual([id(1), null, id(3)]);
  });

  it('handles many appends', () => {
    const log = new NumberLog(path);
    for (let i = 1; i <= 200; i++) expect(log.append(id(i))).toBe(i);
    const all = log.readAll();
    expect(all.length).toBe(200);
    expect(all[199]).toBe(id(200));
  });
});

describe('appendAll and parseRegistry', () => {
  it('appendAll writes every line in one append after padding a torn line, and returns the first number', () => {
    const log = new NumberLog(path);
    log.append(id(1));
    appendFileSync(path, 'abc');
    expect(log.appendAll([id(2), null, id(3)])).toBe(3);
    expect(log.readAll()).toEqual([id(1), null, id(2), null, id(3)]);
  });

  it('parseRegistry takes ids and burned numbers; a torn tail or a garbled line is REMOTE_CORRUPT', async () => {
    const { parseRegistry, formatNumberLog } = await import('../../../src/storage/numbers.js');
    expect(parseRegistry(formatNumberLog([id(1), null, id(2)]), 'u')).toEqual([id(1), null, id(2)]);
    expect(() => parseRegistry(Buffer.concat([formatNumberLog([id(1)]), Buffer.from('ab')]), 'u')).toThrow(
      expect.objectContaining({ code: 'REMOTE_CORRUPT' }),
    );
    expect(() => parseRegistry(Buffer.alloc(65 * 3), 'u')).toThrow(expect.objectContaining({ code: 'REMOTE_CORRUPT' }));
    expect(() => parseRegistry(Buffer.from(`${'-'.repeat(64)}x`), 'u')).toThrow(
      expect.objectContaining({ code: 'REMOTE_CORRUPT' }),
    );
  });
});
