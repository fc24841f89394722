// checkout between two versions of a large file: built from the old file by an in-kernel copy plus the changed
// chunks, the old file freed off the command's path, and a reader holding the old file keeps its bytes.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeSync, mkdtempSync, openSync, readFileSync, readSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { mvm, randomBytes } from '../../helpers/cli.js';
import { json, ok, write } from '../../helpers/assertions.js';
import { trashEmptied } from '../../helpers/faults.js';

const MiB = 1 << 20;
// 8 chunks of 1 MiB; v2 rewrites the fourth
const V1 = randomBytes(8 * MiB, 1);
const V2 = Buffer.concat([V1.subarray(0, 3 * MiB), randomBytes(MiB, 2), V1.subarray(4 * MiB)]);

let dir = '';
const run = (args: string[], env: Record<string, string> = {}) => mvm(args, { cwd: dir, env });
const file = () => join(dir, 'm.bin');

/** What a descriptor opened before the checkout reads now: `want`, whole (the old file lives on). */
function readerSees(fd: number, want: Buffer): void {
  const seen = Buffer.alloc(want.length);
  expect(readSync(fd, seen, 0, seen.length, 0)).toBe(want.length);
  expect(seen.equals(want)).toBe(true);
}

/** After a switch: the old file, moved to .mvm/trash, unlinked in the background; nothing in .mvm/tmp; clean. */
function expectSettled(): void {
  expect(trashEmptied(dir)).toBe(true);
  expect(readdirSync(join(dir, '.mvm', 'tmp'))).toEqual([]);
  expect(json(run(['status', '--json'])).clean).toBe(true);
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'mvm-switch-'));
  write(file(), V1);
  ok(run(['init']));
  ok(run(['add', 'm.bin']));
  ok(run(['commit', '-m', 'v1']));
  write(file(), V2);
  ok(run(['commit', '-m', 'v2']));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('checkout switch', () => {
  it('copies the unchanged chunks in the kernel, decodes only the changed one; a reader keeps the old bytes', () => {
    const fd = openSync(file(), 'r');
    try {
      const co = json(run(['checkout', 'v1', '--json']));
      expect(co.written).toEqual(['m.bin']);
      expect(co.bytesWritten).toBe(8 * MiB);
      // the file was known unchanged since the commit: its chunks are taken from the copy unread
      expect(co.bytesCopied).toBe(7 * MiB);
      expect(co.bytesChecked).toBe(0);
      expect(co.bytesDecoded).toBe(MiB);
      expect(readFileSync(file()).equals(V1)).toBe(true);
      // the open file is the old one, whole: the new file was put at the path (exchanged), never written in place
      readerSees(fd, V2);
    } finally {
      closeSync(fd);
    }
    expectSettled();
    const back = json(run(['checkout', 'main', '--json']));
    expect([back.bytesCopied, back.bytesDecoded]).toEqual([7 * MiB, MiB]);
    expect(readFileSync(file()).equals(V2)).toBe(true);
  });

  it('with --force over local changes, the changed file is the base and the result is still v1 exactly', () => {
    // the workspace holds v2 with its sixth chunk changed locally: that chunk no longer lines up either
    const local = Buffer.from(V2);
    randomBytes(MiB, 3).copy(local, 5 * MiB);
    write(file(), local);
    const co = json(run(['checkout', 'v1', '--force', '--json']));
    expect(co.bytesCopied + co.bytesChecked).toBe(6 * MiB);
    expect(co.bytesDecoded).toBe(2 * MiB);
    expect(readFileSync(file()).equals(V1)).toBe(true);
    expect(json(run(['status', '--json'])).clean).toBe(true);
  });

  it('with MVM_EXCHANGE=0 the new file is renamed over the old one: same result, a reader keeps the old bytes', () => {
    // the workspace holds v1 (the test before checked it out)
    const fd = openSync(file(), 'r');
    try {
      const co = json(run(['checkout', 'main', '--json'], { MVM_EXCHANGE: '0' }));
      expect([co.bytesCopied, co.bytesChecked, co.bytesDecoded]).toEqual([7 * MiB, 0, MiB]);
      expect(readFileSync(file()).equals(V2)).toBe(true);
      readerSees(fd, V1);
    } finally {
      closeSync(fd);
    }
    expectSettled();
  });
});
