import { spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { cliEnv, MVM_LAUNCHER, randomBytes, testdir } from '../../helpers/cli.js';

// The launcher (bin/mvm) starts Node from the start-up snapshot `npm run build` made, and runs bin/mvm.js where
// the blob cannot be used. These tests run the launcher directly, with MVM_LAUNCH_TRACE telling which it started.
const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

function run(launcher: string, args: string[], cwd: string, env: Record<string, string> = {}) {
  const r = spawnSync(launcher, args, { cwd, env: cliEnv({ MVM_LAUNCH_TRACE: '1', ...env }), encoding: 'utf8' });
  const [trace, ...rest] = r.stderr.split('\n');
  return { code: r.status, stdout: r.stdout, stderr: rest.join('\n'), snapshot: trace!.includes('--snapshot-blob') };
}

describe('the start-up snapshot', () => {
  it('is built by npm run build for this node, here; the launcher starts from it and every path works', () => {
    // the version, binary and folder it was built with
    const stamp = readFileSync(join(ROOT, 'dist/snapshot/mvm.blob.node'), 'utf8').split('\n');
    expect(stamp.slice(0, 3)).toEqual([process.version, realpathSync(process.execPath), realpathSync(ROOT)]);
    const t = testdir({ 'm.bin': randomBytes(3 << 20, 7) });
    try {
      // --version and -h are mvm's, not Node's, though no script name comes before them
      const v = run(MVM_LAUNCHER, ['--version'], t.dir);
      expect([v.snapshot, v.code, v.stdout.trim()]).toEqual([true, 0, VERSION]);
      expect(run(MVM_LAUNCHER, ['-h'], t.dir).stdout).toContain('mvm <command> [options]');
      expect(run(MVM_LAUNCHER, ['init'], t.dir).code).toBe(0);
      expect(run(MVM_LAUNCHER, ['add', 'm.bin'], t.dir).code).toBe(0);
      // MVM_FAULT is read when the process runs, not when the blob was built: the first write fails
      const failed = run(MVM_LAUNCHER, ['commit', '-m', 'v1'], t.dir, { MVM_FAULT: 'fail:1' });
      expect([failed.snapshot, failed.code]).toEqual([true, 8]);
      // three chunks hashed and compressed on worker threads, started from a deserialised process
      const c = run(MVM_LAUNCHER, ['commit', '-m', 'v1', '--json'], t.dir);
      expect([c.snapshot, c.code]).toEqual([true, 0]);
      expect((JSON.parse(c.stdout) as { number: number }).number).toBe(1);
      const s = run(MVM_LAUNCHER, ['status'], t.dir);
      expect([s.snapshot, s.stdout]).toEqual([true, expect.stringContaining('workspace matches HEAD')]);
      // yargs' catalogues are found from the blob too
      const fr = run(MVM_LAUNCHER, ['log', '--bogus'], t.dir, { LANG: 'fr_FR.UTF-8', LC_ALL: '' });
      expect([fr.snapshot, fr.code, fr.stderr]).toEqual([true, 2, expect.stringContaining('Argument inconnu')]);
      const fsck = run(MVM_LAUNCHER, ['fsck'], t.dir, { MVM_HASH: 'js' });
      expect([fsck.snapshot, fsck.code]).toEqual([true, 0]);
    } finally {
      t.cleanup();
    }
  });

  it('falls back to bin/mvm.js for another node, another folder, NODE_OPTIONS or MVM_NO_SNAPSHOT=1, the same', () => {
    const t = testdir({ 'm.bin': 'weights' });
    try {
      const off = run(MVM_LAUNCHER, ['--version'], t.dir, { MVM_NO_SNAPSHOT: '1' });
      expect([off.snapshot, off.code, off.stdout.trim()]).toEqual([false, 0, VERSION]);
      // V8 flags in NODE_OPTIONS would make Node refuse the blob (exit 14): the launcher does not try it
      const heap = run(MVM_LAUNCHER, ['--version'], t.dir, { NODE_OPTIONS: '--max-old-space-size=4096' });
      expect([heap.snapshot, heap.code, heap.stdout.trim()]).toEqual([false, 0, VERSION]);
      // a copy of the package in another folder: its blob holds the folders it was built in, so it is not used
      const pkg = t.path('copy');
      mkdirSync(pkg);
      for (const part of ['bin', 'dist', 'assets', 'package.json'])
        cpSync(join(ROOT, part), join(pkg, part), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
      // linked from elsewhere, as npm links node_modules/.bin/mvm
      symlinkSync(join(pkg, 'bin/mvm'), t.path('mvm'));
      const moved = run(t.path('mvm'), ['init'], t.dir);
      expect([moved.snapshot, moved.code]).toEqual([false, 0]);
      // built by another node in this folder: not used either
      writeFileSync(join(pkg, 'dist/snapshot/mvm.blob.node'), `v1.2.3\n/bin/sh\n${pkg}\n`);
      const other = run(t.path('mvm'), ['add', 'm.bin'], t.dir);
      expect([other.snapshot, other.code]).toEqual([false, 0]);
      // where both match, the copy's own blob is used
      writeFileSync(join(pkg, 'dist/snapshot/mvm.blob.node'), `${process.version}\n${process.execPath}\n${pkg}\n`);
      const same = run(t.path('mvm'), ['commit', '-m', 'v1'], t.dir);
      expect([same.snapshot, same.code]).toEqual([true, 0]);
      // node replaced in place after the blob was built, under the same path: a package manager may date the new
      // binary before the blob (npm's node packages date every file 1985-10-26), but renaming it in dates its
      // folder. Here the blob's node is a link to the node on PATH in a folder of the test's own
      const nodeDir = t.path('nodebin');
      mkdirSync(nodeDir);
      symlinkSync(realpathSync(process.execPath), join(nodeDir, 'node'));
      const built = (version: string, blobTime: number) => {
        writeFileSync(join(pkg, 'dist/snapshot/mvm.blob.node'), `${version}\n${join(nodeDir, 'node')}\n${pkg}\n`);
        utimesSync(join(pkg, 'dist/snapshot/mvm.blob'), new Date(blobTime), new Date(blobTime));
      };
      const folderTime = statSync(nodeDir).mtimeMs;
      // neither the binary nor its folder changed since: the blob is used without asking node its version (the
      // stamp's made-up version would have failed the check)
      built('v1.2.3', Math.max(folderTime, statSync(realpathSync(process.execPath)).mtimeMs) + 3_600_000);
      const unasked = run(t.path('mvm'), ['status'], t.dir);
      expect([unasked.snapshot, unasked.code]).toEqual([true, 0]);
      // the folder changed after the blob: node is asked, and a version other than the blob's runs bin/mvm.js
      built('v1.2.3', folderTime - 3_600_000);
      const upgraded = run(t.path('mvm'), ['status'], t.dir);
      expect([upgraded.snapshot, upgraded.code]).toEqual([false, 0]);
      // the same version (reinstalled, or another package beside it): the blob
      built(process.version, folderTime - 3_600_000);
      const reinstalled = run(t.path('mvm'), ['status'], t.dir);
      expect([reinstalled.snapshot, reinstalled.code]).toEqual([true, 0]);
    } finally {
      t.cleanup();
    }
  });

  it('is built where npm installs the package: the tarball holds the bundle, and postinstall makes the blob', () => {
    const t = testdir({ 'm.bin': randomBytes(3 << 20, 11) });
    try {
      // the package as npm packs it (dist is built already: no scripts)
      const pack = spawnSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', t.dir], {
        cwd: ROOT,
        encoding: 'utf8',
      });
      expect(pack.status, pack.stderr).toBe(0);
      const packed = JSON.parse(pack.stdout) as { filename: string; files: { path: string }[] }[];
      const files = packed[0]!.files.map((f) => f.path);
      // the bundle and the script that turns it into a blob; no blob, which loads only in the node that built it
      expect(files).toEqual(expect.arrayContaining(['dist/snapshot/mvm.cjs', 'scripts/snapshot-blob.mjs']));
      expect(files.filter((f) => f.startsWith('dist/snapshot/mvm.blob'))).toEqual([]);
      const pkg = t.path('project/node_modules/mvm');
      mkdirSync(pkg, { recursive: true });
      const tar = spawnSync('tar', ['-xzf', join(t.dir, packed[0]!.filename), '-C', pkg, '--strip-components=1']);
      expect(tar.status).toBe(0);
      symlinkSync(join(ROOT, 'node_modules'), join(pkg, 'node_modules'));
      // the bundle finds its package from its own path when the blob is built: no folder of the packer's in it
      expect(readFileSync(join(pkg, 'dist/snapshot/mvm.cjs'), 'utf8')).not.toContain(realpathSync(ROOT));
      const before = run(join(pkg, 'bin/mvm'), ['--version'], t.dir);
      expect([before.snapshot, before.code, before.stdout.trim()]).toEqual([false, 0, VERSION]);
      // what npm runs after installing it
      const postinstall = spawnSync(process.execPath, [join(pkg, 'scripts/snapshot-blob.mjs'), '--postinstall'], {
        cwd: pkg,
        encoding: 'utf8',
      });
      expect([postinstall.status, postinstall.stderr]).toEqual([0, '']);
      const stamp = readFileSync(join(pkg, 'dist/snapshot/mvm.blob.node'), 'utf8').split('\n');
      expect(stamp.slice(0, 3)).toEqual([process.version, realpathSync(process.execPath), realpathSync(pkg)]);
      // the installed launcher starts from it: commands, workers and yargs' catalogues from the installed package
      const mvm = (args: string[], env: Record<string, string> = {}) => run(join(pkg, 'bin/mvm'), args, t.dir, env);
      expect(mvm(['init']).code).toBe(0);
      expect(mvm(['add', 'm.bin']).code).toBe(0);
      const c = mvm(['commit', '-m', 'v1', '--json']);
      expect([c.snapshot, c.code, (JSON.parse(c.stdout) as { number: number }).number]).toEqual([true, 0, 1]);
      const fr = mvm(['log', '--bogus'], { LANG: 'fr_FR.UTF-8', LC_ALL: '' });
      expect([fr.snapshot, fr.code, fr.stderr]).toEqual([true, 2, expect.stringContaining('Argument inconnu')]);
      // in a checkout (src/ is there) postinstall leaves the blob as it is, to the build that follows
      const built = statSync(join(pkg, 'dist/snapshot/mvm.blob'));
      mkdirSync(join(pkg, 'src'));
      const again = spawnSync(process.execPath, [join(pkg, 'scripts/snapshot-blob.mjs'), '--postinstall']);
      expect(again.status).toBe(0);
      const after = statSync(join(pkg, 'dist/snapshot/mvm.blob'));
      expect([after.ino, after.mtimeMs]).toEqual([built.ino, built.mtimeMs]);
    } finally {
      t.cleanup();
    }
  });
});
