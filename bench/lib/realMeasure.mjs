// What `npm run bench:real` measures besides mvm: plain zstd, byte planes + zstd, binary deltas (zstd
// --patch-from, xdelta3), and the bytes and disk blocks a folder tree takes.
import { spawnSync } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MiB = 1 << 20;

/** Runs a command; its stdout as a Buffer. Throws with its stderr when it fails. */
function exec(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, maxBuffer: 256 * MiB });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${String(r.stderr).slice(-1000)}`);
  return r.stdout;
}

/** Bytes of `zstd -LEVEL` of a file (single thread, as the CLI defaults). */
export const zstdSize = (path, level) => exec('zstd', ['-q', '-c', `-${level}`, path]).length;

/** Bytes of `zstd -3` of a buffer. */
const zstdBufSize = (buf) => exec('zstd', ['-q', '-c', '-3'], buf).length;

/**
 * Bytes of plain byte planes + `zstd -3` of a whole file, without any model layout: the file cut in 1 MiB blocks,
 * each grouped as f32 (sign rotated to bit 0, four planes; the last bytes of a block that make no whole element
 * kept as they are) by mvm's own `groupBytes`, then the whole compressed as one stream.
 */
export function planesSize(path, groupBytes) {
  const data = readFileSync(path);
  const out = Buffer.alloc(data.length);
  for (let at = 0; at < data.length; at += MiB) {
    const end = Math.min(data.length, at + MiB);
    groupBytes(data.subarray(at, end), 'f32', out.subarray(at, end));
  }
  return zstdBufSize(out);
}

/** Bytes of `zstd --patch-from=OLD -LEVEL NEW`. */
export const patchFromSize = (oldPath, newPath, level = 3) =>
  exec('zstd', ['-q', '-c', `-${level}`, `--patch-from=${oldPath}`, newPath]).length;

/** Bytes of `xdelta3 -e -s OLD NEW` (its default level). */
export const xdeltaSize = (oldPath, newPath) => exec('xdelta3', ['-e', '-c', '-s', oldPath, newPath]).length;

/** True when a command runs (`cmd -V` or `--version` exits 0). */
export function have(cmd) {
  for (const flag of ['--version', '-V']) {
    const r = spawnSync(cmd, [flag], { stdio: 'ignore' });
    if (!r.error && r.status === 0) return true;
  }
  return false;
}

/**
 * What a folder tree takes: `files` and `fileBytes` (apparent sizes of its regular files), `dirs`, `apparent`
 * (files and folders, as `du -B1 --apparent-size` counts them) and `disk` (blocks allocated to files and
 * folders, st_blocks x 512, as `du -B1` counts them). A missing path takes nothing.
 */
export function treeUsage(path) {
  const u = { files: 0, fileBytes: 0, dirs: 0, apparent: 0, disk: 0 };
  let st;
  try {
    st = lstatSync(path);
  } catch {
    return u;
  }
  const visit = (p, s) => {
    u.apparent += s.size;
    u.disk += s.blocks * 512;
    if (s.isDirectory()) {
      u.dirs++;
      for (const name of readdirSync(p)) {
        const q = join(p, name);
        visit(q, lstatSync(q));
      }
    } else if (s.isFile()) {
      u.files++;
      u.fileBytes += s.size;
    }
  };
  visit(path, st);
  return u;
}

/** The sum of several treeUsage results. */
export const addUsage = (...us) =>
  us.reduce(
    (a, b) => ({
      files: a.files + b.files,
      fileBytes: a.fileBytes + b.fileBytes,
      dirs: a.dirs + b.dirs,
      apparent: a.apparent + b.apparent,
      disk: a.disk + b.disk,
    }),
    { files: 0, fileBytes: 0, dirs: 0, apparent: 0, disk: 0 },
  );

/** The size of a file. */
export const sizeOf = (path) => statSync(path).size;
