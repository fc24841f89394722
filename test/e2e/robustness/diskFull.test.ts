/**
 * A disk that fills during a command (`MVM_FAULT=full:N`: every write from fault point N on fails with ENOSPC,
 * and a real 14 MiB tmpfs where the machine lets root mount one): the DISK_FULL error says how many bytes of
 * stored data stay and which command frees them, no temporary file of the command remains, and a retry or
 * `mvm gc --grace 0` finishes the job.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';

const MiB = 1 << 20;
const IS_ROOT = process.getuid?.() === 0;
const cleanups: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanups.splice(0).reverse()) c();
});

/** A repository at `dir` with v1 (3 MiB) committed and 6 MiB of new bytes in the workspace. */
function twoVersions(dir: string) {
  const run = (args: string[], env: Record<string, string> = {}) => mvm(args, { cwd: dir, env });
  write(join(dir, 'models/a.bin'), randomBytes(3 * MiB, 1));
  ok(run(['init', '-q']));
  ok(run(['add', 'models', '-q']));
  const v1 = json(run(['commit', '-m', 'one', '--json']));
  write(join(dir, 'models/a.bin'), randomBytes(6 * MiB, 2)); // incompressible: six loose 1 MiB chunks
  return { run, v1 };
}

/** What `mvm gc --grace 0` would remove: the stored data no version uses. */
function unreferenced(run: (a: string[]) => ReturnType<typeof mvm>): { objects: number; bytes: number } {
  return json(run(['gc', '--grace', '0', '--dry-run', '--json'])).removed;
}

describe('disk full', () => {
  it('a commit that fills the disk says what it stored and how to free it, and leaves no temporary file', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const { run, v1 } = twoVersions(t.dir);
    // the fault points of the commit: the chunk writes come first; the disk fills after three of the six
    const log = t.path('faults.log');
    const counted = testdir();
    cleanups.push(counted.cleanup);
    const c = twoVersions(counted.dir);
    ok(c.run(['commit', '-q', '-m', 'two'], { MVM_FAULT: 'count', MVM_FAULT_LOG: log }));
    const writes = readFileSync(log, 'utf8')
      .split('\n')
      .filter((l) => / write .*\/\.mvm\/objects\//.test(l))
      .map((l) => Number(l.split(' ')[0]));
    expect(writes.length).toBeGreaterThanOrEqual(6);
    const at = writes[3]!;

    const r = run(['commit', '-m', 'two', '--json'], { MVM_FAULT: `full:${at}` });
    const e = expectError(r, 'DISK_FULL', 8);
    const left = unreferenced(run);
    expect(left.bytes).toBeGreaterThanOrEqual(3 * MiB);
    // the error counts exactly what stays, in bytes and in words, and names the command that frees it
    expect(e.data.left).toMatchObject({ objects: left.objects, bytes: left.bytes });
    expect(e.data.hint).toContain('mvm gc --grace 0');
    expect(e.data.hint).toMatch(/\d+\.\d MiB of data this command stored \(\d+ object file\(s\)\) stay/);
    expect(e.data.hint).not.toMatch(/nothing was changed/);
    expect(r.stderr).toContain('mvm gc --grace 0');
    expect(readdirSync(t.path('.mvm/tmp'))).toEqual([]);
    // the history did not move
    expect(json(run(['log', '--json'])).map((v: { id: string }) => v.id)).toEqual([v1.id]);
    expect(json(run(['fsck', '--json'])).ok).toBe(true);

    // a second attempt on the still-full disk stored nothing new, and says so
    const again = expectError(run(['commit', '-m', 'two', '--json'], { MVM_FAULT: 'full:1' }), 'DISK_FULL', 8);
    expect(again.data.left).toMatchObject({ objects: 0, bytes: 0 });
    expect(again.data.hint).toMatch(/stored no new data.*mvm gc --grace 0/);

    // gc frees exactly what the error named; a retry then stores the whole version
    expect(json(run(['gc', '--grace', '0', '--json'])).removed.bytes).toBe(left.bytes);
    expect(json(run(['commit', '-m', 'two', '--json'])).number).toBe(2);
    expect(json(run(['fsck', '--json'])).ok).toBe(true);
  });

  it('a retry reuses what a commit stored before the disk filled', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const { run } = twoVersions(t.dir);
    const e = expectError(run(['commit', '-m', 'two', '--json'], { MVM_FAULT: 'full:7' }), 'DISK_FULL', 8);
    expect(e.data.left.bytes).toBeGreaterThan(0);
    const v2 = json(run(['commit', '-m', 'two', '--json']));
    expect(v2.number).toBe(2);
    expect(unreferenced(run)).toEqual({ objects: 0, bytes: 0 });
  });

  it('a checkout that fills the disk leaves the workspace and no temporary file', () => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const { run } = twoVersions(t.dir);
    ok(run(['commit', '-q', '-m', 'two']));
    const e = expectError(run(['checkout', 'v1', '--json'], { MVM_FAULT: 'full:1' }), 'DISK_FULL', 8);
    expect(e.data.hint).toContain('mvm gc --grace 0');
    expect(readdirSync(t.path('.mvm/tmp'))).toEqual([]);
    expect(readFileSync(t.path('models/a.bin')).equals(randomBytes(6 * MiB, 2))).toBe(true);
    expect(json(run(['status', '--json'])).clean).toBe(true);
  });

  it.skipIf(!IS_ROOT)('on a real full disk (a tmpfs; needs root), the commit leaves no partial file', ({ skip }) => {
    const t = testdir();
    cleanups.push(t.cleanup);
    const fsDir = t.path('fs');
    mkdirSync(fsDir);
    // 14 MiB: v1 (3 MiB stored) and the new 6 MiB file fit, the new file's chunks in .mvm do not
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=14m', 'tmpfs', fsDir], { encoding: 'utf8' });
    if (mount.status !== 0) skip(`cannot mount a tmpfs here: ${(mount.stderr || `exit ${mount.status}`).trim()}`);
    cleanups.push(() => {
      spawnSync('umount', ['-l', fsDir]);
    });
    const { run, v1 } = twoVersions(fsDir);
    const e = expectError(run(['commit', '-m', 'two', '--json']), 'DISK_FULL', 8);
    const left = unreferenced(run);
    expect(e.data.left).toMatchObject({ objects: left.objects, bytes: left.bytes });
    expect(e.data.hint).toContain('mvm gc --grace 0');
    expect(readdirSync(join(fsDir, '.mvm/tmp'))).toEqual([]);
    expect(json(run(['log', '--json'])).map((v: { id: string }) => v.id)).toEqual([v1.id]);
    expect(json(run(['gc', '--grace', '0', '--json'])).removed.bytes).toBe(left.bytes);
    rmSync(join(fsDir, 'models/a.bin'));
    write(join(fsDir, 'models/a.bin'), randomBytes(MiB, 3));
    expect(json(run(['commit', '-m', 'small', '--json'])).number).toBe(2);
  });
});
