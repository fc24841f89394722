// Measured processes: each command runs through /usr/bin/time (wall time from the parent, peak RSS from %M).
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MiB } from './format.mjs';
import { log } from './report.mjs';
import { MVM, TMP } from './setup.mjs';

const TIME = '/usr/bin/time';

/**
 * Runs one command under /usr/bin/time: returns wall seconds (measured by the
 * parent around the spawn), peak RSS in KB, user/sys CPU seconds and stdout.
 */
function run(cmd, args, { cwd, env, allowFail = false, showStderr = false } = {}) {
  const tf = join(TMP, `time-${process.pid}.txt`);
  const t0 = process.hrtime.bigint();
  const r = spawnSync(TIME, ['-f', '%e %M %U %S', '-o', tf, cmd, ...args], {
    cwd,
    env: env ?? process.env,
    encoding: 'utf8',
    maxBuffer: 256 * MiB,
    stdio: ['ignore', 'pipe', showStderr ? 'inherit' : 'pipe'],
  });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (r.error) throw r.error;
  let parts = [];
  try {
    // /usr/bin/time writes "Command exited with non-zero status N" first on failure
    const lines = readFileSync(tf, 'utf8').trim().split('\n');
    parts = lines[lines.length - 1].trim().split(/\s+/).map(Number);
  } catch {
    /* no timing file */
  }
  if (r.status !== 0 && !allowFail) {
    throw new Error(`${cmd} ${args.join(' ')} exited with ${r.status}:\n${(r.stderr || '').slice(-2000)}`);
  }
  return {
    wall,
    rssKB: parts[1] ?? NaN,
    user: parts[2] ?? NaN,
    sys: parts[3] ?? NaN,
    stdout: r.stdout,
    stderr: r.stderr,
    status: r.status,
  };
}

const MVM_ENV = { ...process.env, MVM_AUTHOR: 'bench', NO_COLOR: '1' };
/** Runs `mvm ARGS` in `cwd` as its own process. */
function mvm(cwd, ...args) {
  return run(MVM, args, { cwd, env: MVM_ENV });
}
/** Runs `mvm ARGS --json` and parses its output. */
function mvmJson(cwd, ...args) {
  const r = mvm(cwd, ...args, '--json');
  r.json = JSON.parse(r.stdout);
  return r;
}

function sh(cmd, args, o = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 * MiB, ...o });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr || r.error}`);
  return r.stdout;
}
const syncDisk = () => spawnSync('sync');
/** Empties the page cache (needs root); false when this machine does not allow it. */
function dropCaches() {
  spawnSync('sync');
  try {
    writeFileSync('/proc/sys/vm/drop_caches', '3\n');
    return true;
  } catch {
    return false;
  }
}
const duSb = (path) => Number(sh('du', ['-sb', path]).split(/\s+/)[0]);
const fileSize = (p) => statSync(p).size;

/** Every mvm command's peak RSS, to check the < 300 MB bar over all of them. */
const rssLog = [];
function noteRss(label, r, size) {
  rssLog.push({ label, rssKB: r.rssKB, size });
  return r;
}

function have(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

/** Installs the missing tools of `want` (command -> Debian package) with apt-get, when running as root. */
function installMissing(section, want) {
  const missing = Object.entries(want).filter(([bin]) => !have(bin));
  if (missing.length && process.getuid?.() === 0) {
    log(`${section}: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`);
    spawnSync('apt-get', ['install', '-y', '-q', ...missing.map(([, p]) => p)], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
}
export { run, MVM_ENV, mvm, mvmJson, sh, syncDisk, dropCaches, duSb, fileSize, rssLog, noteRss, have, installMissing };
