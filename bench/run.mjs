#!/usr/bin/env node
// The mvm benchmark: times mvm against plain tools (cp, zstd) in the same run
// and checks the bars of the "core store", "model-aware storage" and "know
// your versions" issues. Every measured command is a separate process run
// through /usr/bin/time (wall time from the parent, peak RSS from %M, which
// counts worker threads since they belong to the same process).
//
//   node bench/run.mjs [--size-gib 1] [--big-gib 4] [--versions 10000]
//                      [--versions-budget 720] [--reps 3] [--peers] [--remotes] [--quick]
//                      [--out results.json] [--keep] [--record]
//
// --versions-budget caps the seconds spent building the N-version history
// (0 = no cap): the query is then timed on the versions built so far, and the
// bar is a MISS since it was not measured at N.
//
// Inputs are generated in a temporary directory under /tmp, removed at the end
// (unless --keep). The report goes to stdout, progress to stderr.
import { spawnSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  openSync,
  readSync,
  closeSync,
  unlinkSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planModel, writeModel, patchTensors, readHeader } from './gen.mjs';
import { recordIfAsked } from './record.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..');
const MVM = join(ROOT, 'bin', 'mvm.js');
const TIME = '/usr/bin/time';
const MiB = 1 << 20;
const GiB = 1 << 30;
const CHUNK = MiB; // mvm's default chunk size, also the fixed-chunking baseline

// ---------------------------------------------------------------- arguments

function parseArgs(argv) {
  const o = {
    sizeGib: 1,
    bigGib: 4,
    versions: 10000,
    versionsBudget: 720,
    reps: 3,
    peers: false,
    remotes: false,
    quick: false,
    out: null,
    keep: false,
  };
  const num = (i, name) => {
    const v = Number(argv[i + 1]);
    if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
    return v;
  };
  const given = new Set();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--size-gib') {
      o.sizeGib = num(i++, 'size-gib');
      given.add('size');
    } else if (a === '--big-gib') {
      o.bigGib = num(i++, 'big-gib');
      given.add('big');
    } else if (a === '--versions') {
      o.versions = Math.floor(num(i++, 'versions'));
      given.add('versions');
    } else if (a === '--versions-budget') {
      o.versionsBudget = num(i++, 'versions-budget');
      given.add('budget');
    } else if (a === '--reps') {
      o.reps = Math.max(1, Math.floor(num(i++, 'reps')));
      given.add('reps');
    } else if (a === '--peers') o.peers = true;
    else if (a === '--remotes') o.remotes = true;
    else if (a === '--quick') o.quick = true;
    else if (a === '--keep') o.keep = true;
    else if (a === '--record') o.record = true;
    else if (a === '--out') o.out = resolve(argv[++i]);
    else if (a === '--help' || a === '-h') {
      console.log(
        'usage: node bench/run.mjs [--size-gib N] [--big-gib N|0] [--versions N|0] [--versions-budget S] [--reps N]' +
          ' [--peers] [--remotes] [--quick] [--out FILE] [--keep] [--record]',
      );
      process.exit(0);
    } else throw new Error(`unknown argument ${a}`);
  }
  if (o.quick) {
    if (!given.has('size')) o.sizeGib = 1 / 16; // 64 MiB
    if (!given.has('big')) o.bigGib = 0;
    if (!given.has('versions')) o.versions = 500;
    if (!given.has('reps')) o.reps = 1;
    if (!given.has('budget')) o.versionsBudget = 120;
  }
  if (o.sizeGib <= 0) throw new Error('--size-gib must be > 0');
  return o;
}

const opts = parseArgs(process.argv.slice(2));
recordIfAsked(process.argv.slice(2));

// ---------------------------------------------------------------- helpers

const log = (...a) => process.stderr.write(`[bench] ${a.join(' ')}\n`);
const out = [];
function say(line = '') {
  out.push(line);
  process.stdout.write(line + '\n');
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const max = (xs) => Math.max(...xs);
const fmtS = (s) => (s < 10 ? s.toFixed(3) : s.toFixed(2)) + ' s';
const fmtMB = (kb) => (kb / 1024).toFixed(1) + ' MB';
const fmtBytes = (b) =>
  b >= GiB
    ? (b / GiB).toFixed(3) + ' GiB'
    : b >= MiB
      ? (b / MiB).toFixed(2) + ' MiB'
      : b >= 1024
        ? (b / 1024).toFixed(1) + ' KiB'
        : b + ' B';
const fmtRate = (bytes, s) => (bytes / 1e6 / s).toFixed(0) + ' MB/s';
const pct = (x) => (x * 100).toFixed(2) + '%';

/** Prints a table: `rows` are arrays of cells (strings). */
function table(title, headers, rows) {
  say('');
  say(`## ${title}`);
  say('');
  const all = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const w = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  // numbers (a cell that starts with a digit) are right-aligned, text left-aligned
  const right = headers.map(
    (_, i) => i > 0 && all.slice(1).every((r) => /^[+-]?[0-9]/.test(r[i] ?? '') || (r[i] ?? '') === ''),
  );
  const line = (r) => '| ' + r.map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ') + ' |';
  say(line(all[0]));
  say('|' + w.map((n, i) => (right[i] ? ' ' + '-'.repeat(n - 1) + ': ' : ' ' + '-'.repeat(n) + ' ')).join('|') + '|');
  for (const r of all.slice(1)) say(line(r));
}

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
  return run(process.execPath, [MVM, ...args], { cwd, env: MVM_ENV });
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

/** The bars, in the order they are checked. */
const bars = [];
function bar(section, name, pass, measured, note = '') {
  bars.push({ section, name, pass: !!pass, measured, note });
}

/**
 * The baseline mvm is compared with: plain fixed-size chunks from offset 0, hashed with BLAKE3 (sha256 if
 * unavailable).
 */
function fixedChunkHashes(path, chunk = CHUNK) {
  const require = createRequire(join(ROOT, 'package.json'));
  let hash;
  try {
    const { blake3 } = require('@napi-rs/blake-hash');
    hash = (b) => blake3(b).toString('hex');
  } catch {
    const { createHash } = require('node:crypto');
    hash = (b) => createHash('sha256').update(b).digest('hex');
  }
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(chunk);
  const list = [];
  try {
    for (let pos = 0; ; pos += chunk) {
      const n = readSync(fd, buf, 0, chunk, pos);
      if (n <= 0) break;
      list.push({ id: hash(buf.subarray(0, n)), size: n });
      if (n < chunk) break;
    }
  } finally {
    closeSync(fd);
  }
  return list;
}

function machineInfo() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? cpus()[0]?.model ?? 'unknown';
  let disk = '';
  try {
    const df = sh('df', ['-T', '/tmp']).trim().split('\n').pop().split(/\s+/);
    const dev = df[0].replace('/dev/', '').replace(/[0-9]+$/, '');
    let rot = '';
    try {
      rot =
        readFileSync(`/sys/block/${dev}/queue/rotational`, 'utf8').trim() === '1'
          ? ', rotational=1 (as reported by the VM)'
          : ', rotational=0';
    } catch {
      /* unknown */
    }
    disk = `${df[0]} ${df[1]}${rot}`;
  } catch {
    /* unknown */
  }
  let zstdVersion = '';
  try {
    zstdVersion = sh('zstd', ['--version']).trim();
  } catch {
    /* none */
  }
  let load = '';
  try {
    load = readFileSync('/proc/loadavg', 'utf8').trim().split(' ').slice(0, 3).join(' ');
  } catch {
    /* none */
  }
  return {
    date: sh('date', ['-u']).trim(),
    nproc: Number(sh('nproc', []).trim()),
    cpu: model,
    memGiB: +(totalmem() / GiB).toFixed(1),
    disk,
    node: process.version,
    zstd: zstdVersion,
    loadAvgAtStart: load,
    command: `node bench/run.mjs ${process.argv.slice(2).join(' ')}`.trim(),
  };
}

// ---------------------------------------------------------------- setup

const TMP = mkdtempSync('/tmp/mvm-bench-');
const results = { machine: machineInfo(), options: opts, sections: {}, bars };
const started = performance.now();
let cleaned = false;
function cleanup() {
  if (cleaned) return;
  cleaned = true;
  if (opts.keep) log(`kept ${TMP}`);
  else rmSync(TMP, { recursive: true, force: true });
}
process.on('SIGINT', () => {
  cleanup();
  process.exit(130);
});

const SIZE = Math.round(opts.sizeGib * GiB);
const DEDUP_SIZE = Math.min(SIZE, 256 * MiB);
const seedOf = (tag) => (name) => `${tag}:${name}`;

try {
  const m = results.machine;
  say(`# mvm benchmark`);
  say('');
  say(`- date: ${m.date}`);
  say(
    `- machine: ${m.nproc} cores (${m.cpu}), ${m.memGiB} GiB RAM, disk ${m.disk}; load average at start ` +
      `${m.loadAvgAtStart}`,
  );
  say(`- node ${m.node}; ${m.zstd}`);
  say(`- command: ${m.command}`);
  say(
    `- sizes: model ${opts.sizeGib} GiB, big ${opts.bigGib} GiB, dedup models ${fmtBytes(DEDUP_SIZE)}, ` +
      `${opts.versions} versions, ${opts.reps} repetition(s) of the heavy measurements (medians reported)`,
  );
  say(
    `- times are wall-clock seconds of whole processes (node start-up included); RSS is peak resident memory from ` +
      `/usr/bin/time %M; MB = 10^6 bytes`,
  );
  say(
    `- the page cache is warm for every tool (inputs were just written); \`sync\` runs before each heavy ` +
      `measurement so no tool pays for another's write-back`,
  );

  // ------------------------------------------------------------ core store
  log(`generating ${opts.sizeGib} GiB model A and version B (every 10th tensor rewritten)`);
  const A = join(TMP, 'A.safetensors');
  const B = join(TMP, 'B.safetensors');
  const tensors = planModel(SIZE);
  let t = performance.now();
  writeModel(A, tensors, { seedOf: seedOf('v1'), metadata: { format: 'pt' } });
  const genSeconds = (performance.now() - t) / 1000;
  copyFileSync(A, B);
  const changedNames = tensors.filter((_, i) => i % 10 === 0).map((x) => x.name);
  const changedBytes = patchTensors(B, changedNames, { seedOf: seedOf('v2') });
  const sizeA = fileSize(A);
  log(
    `A: ${fmtBytes(sizeA)}, ${tensors.length} tensors, generated in ${genSeconds.toFixed(1)} s; B: ` +
      `${changedNames.length} tensors (${fmtBytes(changedBytes)}) rewritten`,
  );

  const ws = join(TMP, 'ws');
  const wsFile = join(ws, 'model.safetensors');
  const zst = join(TMP, 'A.zst');
  const core = { size: sizeA, tensors: tensors.length, changedTensors: changedNames.length, changedBytes };
  // every run kept whole: wall, peak RSS, user and sys CPU
  const cpRuns = [],
    z2Runs = [],
    z1Runs = [],
    zdRuns = [],
    zdOverRuns = [],
    zdColdRuns = [],
    firstRuns = [],
    commitRuns = [],
    commitBRuns = [];
  let z2Size = 0,
    z1Size = 0;
  const stored1 = [],
    storedJson1 = [],
    growthB = [],
    newRawB = [];
  let statusRuns = [],
    noopRuns = [];
  const sumRuns = (...rs) => ({
    wall: rs.reduce((x, r) => x + r.wall, 0),
    rssKB: max(rs.map((r) => r.rssKB)),
    user: rs.reduce((x, r) => x + r.user, 0),
    sys: rs.reduce((x, r) => x + r.sys, 0),
  });
  for (let rep = 0; rep < opts.reps; rep++) {
    log(`core rep ${rep + 1}/${opts.reps}: cp, zstd -T2 -3, mvm init/add/commit A, zstd -T1 -3, zstd -d, mvm commit B`);
    const cpOut = join(TMP, 'cp.out');
    syncDisk();
    cpRuns.push(run('cp', [A, cpOut]));
    rmSync(cpOut);
    syncDisk();
    z2Runs.push(run('zstd', ['-q', '-f', '-T2', '-3', A, '-o', zst]));
    z2Size = fileSize(zst);
    // mvm first commit: init in a fresh folder, add, commit
    rmSync(ws, { recursive: true, force: true });
    mkdirSync(ws);
    copyFileSync(A, wsFile);
    syncDisk();
    const ri = noteRss('init', mvm(ws, 'init'), sizeA);
    const ra = noteRss('add', mvm(ws, 'add', 'model.safetensors'), sizeA);
    const rc = noteRss('commit (first)', mvmJson(ws, 'commit', '-m', 'A'), sizeA);
    firstRuns.push(sumRuns(ri, ra, rc));
    commitRuns.push(rc);
    stored1.push(duSb(join(ws, '.mvm', 'objects')));
    storedJson1.push(rc.json.storedBytes);
    syncDisk();
    z1Runs.push(run('zstd', ['-q', '-f', '-T1', '-3', A, '-o', zst + '1']));
    z1Size = fileSize(zst + '1');
    rmSync(zst + '1');
    syncDisk();
    zdRuns.push(run('zstd', ['-q', '-f', '-d', zst, '-o', join(TMP, 'A.out')]));
    // the same over the file just written: replacing a file frees its blocks first, as a checkout switch does
    syncDisk();
    zdOverRuns.push(run('zstd', ['-q', '-f', '-d', zst, '-o', join(TMP, 'A.out')]));
    rmSync(join(TMP, 'A.out'));
    // cold page cache: nothing of the compressed input is in memory
    if (dropCaches()) {
      zdColdRuns.push(run('zstd', ['-q', '-f', '-d', zst, '-o', join(TMP, 'A.out')]));
      rmSync(join(TMP, 'A.out'));
    }
    if (rep === opts.reps - 1) {
      log('status x5, no-op commit x5');
      statusRuns = Array.from({ length: 5 }, () => noteRss('status', mvm(ws, 'status'), sizeA));
      // "nothing to commit" exits 1, as git does
      noopRuns = Array.from({ length: 5 }, () => {
        const r = run(process.execPath, [MVM, 'commit', '-m', 'x'], { cwd: ws, env: MVM_ENV, allowFail: true });
        if (r.status !== 1 || !/nothing to commit/.test(r.stdout + r.stderr))
          throw new Error(`no-op commit: exit ${r.status}: ${r.stdout}${r.stderr}`);
        return noteRss('commit (no-op)', r, sizeA);
      });
    }
    // version B over the tracked file, then commit
    copyFileSync(B, wsFile);
    const before = duSb(join(ws, '.mvm', 'objects'));
    syncDisk();
    const rb = noteRss('commit (B)', mvmJson(ws, 'commit', '-m', 'B'), sizeA);
    commitBRuns.push(rb);
    growthB.push(duSb(join(ws, '.mvm', 'objects')) - before);
    newRawB.push(rb.json.newBytes);
  }
  rmSync(zst, { force: true });

  log('diff v1 v2 x5');
  const diffRuns = Array.from({ length: 5 }, () => noteRss('diff', mvm(ws, 'diff', 'v1', 'v2'), sizeA));
  const diffJson = mvmJson(ws, 'diff', 'v1', 'v2').json;
  log('checkout: switch v1 <-> v2, and full restores');
  const switchRuns = [];
  // alternate v1 (detached) and main (v2); every one rewrites the file
  for (let rep = 0; rep < opts.reps; rep++) {
    syncDisk();
    switchRuns.push(noteRss('checkout (switch)', mvm(ws, 'checkout', rep % 2 ? 'main' : 'v1'), sizeA));
  }
  const fullRuns = [];
  for (let rep = 0; rep < opts.reps; rep++) {
    rmSync(wsFile);
    syncDisk();
    fullRuns.push(noteRss('checkout (full restore)', mvm(ws, 'checkout', 'main'), sizeA));
  }
  // cold page cache: no object (nor the old file) is in memory
  const fullColdRuns = [];
  for (let rep = 0; rep < opts.reps && zdColdRuns.length; rep++) {
    rmSync(wsFile);
    dropCaches();
    fullColdRuns.push(noteRss('checkout (full restore, cold cache)', mvm(ws, 'checkout', 'main'), sizeA));
  }
  const restoredOk = fileSize(wsFile) === fileSize(B);
  log('diff --stats --json v1 v2');
  const statsRuns = [];
  for (let rep = 0; rep < opts.reps; rep++)
    statsRuns.push(noteRss('diff --stats', mvmJson(ws, 'diff', '--stats', 'v1', 'v2'), sizeA));
  log('node start-up reference x5');
  const nodeRuns = Array.from({ length: 5 }, () => run(process.execPath, ['-e', '']));

  const mw = (runs) => median(runs.map((r) => r.wall));
  const med = {
    cp: mw(cpRuns),
    z2: mw(z2Runs),
    z1: mw(z1Runs),
    zd: mw(zdRuns),
    zdOver: mw(zdOverRuns),
    zdCold: zdColdRuns.length ? mw(zdColdRuns) : NaN,
    fullCold: fullColdRuns.length ? mw(fullColdRuns) : NaN,
    first: mw(firstRuns),
    commitOnly: mw(commitRuns),
    commitB: mw(commitBRuns),
    status: mw(statusRuns),
    noop: mw(noopRuns),
    diff: mw(diffRuns),
    switch: mw(switchRuns),
    full: mw(fullRuns),
    stats: mw(statsRuns),
    node: mw(nodeRuns),
  };
  const firstRss = firstRuns.map((r) => r.rssKB);
  const commitBRss = commitBRuns.map((r) => r.rssKB);
  const storedFirst = median(stored1);
  const growth = median(growthB);
  const statsJ = statsRuns.map((r) => r.json);
  const statsRate = median(statsJ.map((j) => j.statsBytes / j.statsSeconds));
  const statsWallRate = median(statsRuns.map((r) => r.json.statsBytes / r.wall));
  const slim = (runs, extra = () => ({})) =>
    runs.map((r) => ({ s: r.wall, rssKB: r.rssKB, cpuS: r.user + r.sys, ...extra(r) }));
  Object.assign(core, {
    generateSeconds: genSeconds,
    cp: slim(cpRuns),
    zstdT2: { runs: slim(z2Runs), bytes: z2Size },
    zstdT1: { runs: slim(z1Runs), bytes: z1Size },
    zstdD: slim(zdRuns),
    zstdDOverExisting: slim(zdOverRuns),
    firstCommit: {
      runs: slim(firstRuns),
      commitOnly: slim(commitRuns),
      objectsBytes: stored1,
      storedBytesJson: storedJson1,
    },
    status: slim(statusRuns),
    noopCommit: slim(noopRuns),
    commitB: { runs: slim(commitBRuns), objectsGrowth: growthB, newBytesJson: newRawB },
    diff: slim(diffRuns),
    diffTotals: diffJson.totals,
    checkoutSwitch: slim(switchRuns),
    checkoutFull: slim(fullRuns),
    restoredSizeOk: restoredOk,
    diffStats: slim(statsRuns, (r) => ({ statsBytes: r.json.statsBytes, statsSeconds: r.json.statsSeconds })),
    nodeStartup: slim(nodeRuns),
    medians: med,
  });
  results.sections.core = core;

  // CPU = user + sys of the process and all its threads; CPU/wall near 2 means both cores were busy for it
  const rowOf = (name, runs, extra = '') => {
    const w = runs.map((r) => r.wall);
    const cpu = median(runs.map((r) => r.user + r.sys));
    return [
      name,
      fmtS(median(w)),
      fmtS(max(w)),
      String(w.length),
      fmtS(cpu),
      (cpu / median(w)).toFixed(2),
      fmtMB(max(runs.map((r) => r.rssKB))),
      extra,
    ];
  };
  table(
    `Core store: ${fmtBytes(sizeA)} bf16 safetensors (A), B = ${changedNames.length}/${tensors.length} tensors ` +
      `rewritten (${fmtBytes(changedBytes)})`,
    ['command', 'median', 'max', 'runs', 'CPU (median)', 'CPU/wall', 'peak RSS', 'notes'],
    [
      rowOf('cp A', cpRuns, fmtRate(sizeA, med.cp)),
      rowOf('zstd -T2 -3 A', z2Runs, `${fmtBytes(z2Size)} (${pct(z2Size / sizeA)}), ${fmtRate(sizeA, med.z2)}`),
      rowOf('zstd -T1 -3 A', z1Runs, `${fmtBytes(z1Size)} (${pct(z1Size / sizeA)}), ${fmtRate(sizeA, med.z1)}`),
      rowOf('zstd -d (restore A)', zdRuns, fmtRate(sizeA, med.zd)),
      rowOf(
        'zstd -d -f over an existing A',
        zdOverRuns,
        `${fmtRate(sizeA, med.zdOver)} (reference for the switch: the old file is replaced)`,
      ),
      rowOf(
        'mvm init+add+commit A',
        firstRuns,
        `objects ${fmtBytes(storedFirst)} (${pct(storedFirst / sizeA)}), ${fmtRate(sizeA, med.first)}`,
      ),
      rowOf('  of which mvm commit', commitRuns, fmtRate(sizeA, med.commitOnly)),
      rowOf('mvm status (clean)', statusRuns),
      rowOf('mvm commit -m x (no-op)', noopRuns),
      rowOf(
        'mvm commit B',
        commitBRuns,
        `objects +${fmtBytes(growth)} (${(growth / changedBytes).toFixed(3)}x changed bytes); new raw ` +
          `${fmtBytes(median(newRawB))}`,
      ),
      rowOf(
        'mvm diff v1 v2',
        diffRuns,
        `${diffJson.totals.chunksChanged} of ${diffJson.totals.chunksTotal} chunks changed`,
      ),
      rowOf('mvm checkout (switch v1<->v2)', switchRuns, fmtRate(sizeA, med.switch)),
      rowOf(
        'mvm checkout (full restore)',
        fullRuns,
        `${fmtRate(sizeA, med.full)}${restoredOk ? '' : ' SIZE MISMATCH'}`,
      ),
      ...(zdColdRuns.length
        ? [
            rowOf('zstd -d, cold page cache', zdColdRuns, fmtRate(sizeA, med.zdCold)),
            rowOf('mvm checkout (full restore), cold page cache', fullColdRuns, fmtRate(sizeA, med.fullCold)),
          ]
        : [
            [
              '(cold page cache)',
              'not measured: /proc/sys/vm/drop_caches is not writable here',
              '',
              '',
              '',
              '',
              '',
              '',
            ],
          ]),
      rowOf(
        'mvm diff --stats v1 v2',
        statsRuns,
        `streamed ${fmtBytes(statsJ[0].statsBytes)}: ${(statsRate / 1e6).toFixed(0)} MB/s by statsSeconds, ` +
          `${(statsWallRate / 1e6).toFixed(0)} MB/s by wall`,
      ),
      rowOf('node -e "" (start-up reference)', nodeRuns),
    ],
  );

  bar(
    'core',
    'first commit (init+add+commit) time <= zstd -T2 -3 time',
    med.first <= med.z2,
    `${fmtS(med.first)} vs ${fmtS(med.z2)} (${(med.first / med.z2).toFixed(2)}x; commit alone ${fmtS(med.commitOnly)})`,
  );
  bar(
    'core',
    'first commit bytes stored (du -sb .mvm/objects) <= zstd output',
    storedFirst <= z2Size,
    `${fmtBytes(storedFirst)} vs ${fmtBytes(z2Size)} (${pct(storedFirst / sizeA)} vs ${pct(z2Size / sizeA)} of raw)`,
  );
  bar(
    'core',
    'mvm status < 0.3 s',
    med.status < 0.3,
    `median ${fmtS(med.status)}, max ${fmtS(max(statusRuns.map((r) => r.wall)))} (node start-up alone: median ` +
      `${fmtS(med.node)})`,
  );
  bar(
    'core',
    'no-op mvm commit < 0.3 s',
    med.noop < 0.3,
    `median ${fmtS(med.noop)}, max ${fmtS(max(noopRuns.map((r) => r.wall)))}`,
  );
  bar(
    'core',
    'commit of B < 0.3x zstd -T2 -3 time',
    med.commitB < 0.3 * med.z2,
    `${fmtS(med.commitB)} vs 0.3 x ${fmtS(med.z2)} = ${fmtS(0.3 * med.z2)} (${(med.commitB / med.z2).toFixed(2)}x)`,
  );
  bar(
    'core',
    'commit of B: new bytes stored < 1.2x changed bytes',
    growth < 1.2 * changedBytes,
    `objects +${fmtBytes(growth)} for ${fmtBytes(changedBytes)} changed = ${(growth / changedBytes).toFixed(3)}x`,
  );
  bar(
    'core',
    'mvm diff v1 v2 < 0.3 s',
    med.diff < 0.3,
    `median ${fmtS(med.diff)}, max ${fmtS(max(diffRuns.map((r) => r.wall)))}`,
  );
  bar(
    'core',
    'checkout of the other version <= zstd -d time',
    med.switch <= med.zd,
    `${fmtS(med.switch)} vs ${fmtS(med.zd)} (${(med.switch / med.zd).toFixed(2)}x); zstd -d replacing an existing ` +
      `file: ${fmtS(med.zdOver)} (${(med.switch / med.zdOver).toFixed(2)}x)`,
  );
  bar(
    'core',
    'full restore (file deleted, checkout) <= zstd -d time',
    med.full <= med.zd,
    `${fmtS(med.full)} vs ${fmtS(med.zd)} (${(med.full / med.zd).toFixed(2)}x)`,
  );
  bar(
    'kernels',
    'full restore <= 0.8x zstd -d time, warm page cache',
    med.full <= 0.8 * med.zd,
    `${fmtS(med.full)} vs ${fmtS(med.zd)} (${(med.full / med.zd).toFixed(2)}x)`,
  );
  if (zdColdRuns.length) {
    bar(
      'kernels',
      'full restore <= 0.8x zstd -d time, cold page cache (caches dropped before each)',
      med.fullCold <= 0.8 * med.zdCold,
      `${fmtS(med.fullCold)} vs ${fmtS(med.zdCold)} (${(med.fullCold / med.zdCold).toFixed(2)}x)`,
    );
    bar(
      'kernels',
      'full restore >= 1 GB/s, cold page cache',
      sizeA / med.fullCold >= 1e9,
      fmtRate(sizeA, med.fullCold),
    );
  } else
    bar(
      'kernels',
      'full restore with a cold page cache',
      false,
      'not measured: could not drop the page cache (/proc/sys/vm/drop_caches needs root)',
    );

  // ------------------------------------------------------------ big file: memory flatness
  let big = null;
  if (opts.bigGib > 0) {
    const BIG = Math.round(opts.bigGib * GiB);
    log(`big: generating ${opts.bigGib} GiB model in a fresh workspace`);
    const bws = join(TMP, 'big');
    mkdirSync(bws);
    const bfile = join(bws, 'model.safetensors');
    const btensors = planModel(BIG);
    t = performance.now();
    writeModel(bfile, btensors, { seedOf: seedOf('v1'), metadata: { format: 'pt' } });
    const bgen = (performance.now() - t) / 1000;
    const bsize = fileSize(bfile);
    log(`big: ${fmtBytes(bsize)} generated in ${bgen.toFixed(1)} s; init/add/commit`);
    syncDisk();
    const bi = noteRss('init', mvm(bws, 'init'), bsize);
    const ba = noteRss('add', mvm(bws, 'add', 'model.safetensors'), bsize);
    const bc = noteRss('commit (first)', mvmJson(bws, 'commit', '-m', 'A'), bsize);
    const bStored = duSb(join(bws, '.mvm', 'objects'));
    const bStatus = Array.from({ length: 3 }, () => noteRss('status', mvm(bws, 'status'), bsize));
    log('big: rewrite every 10th tensor in place, commit');
    const bChanged = patchTensors(
      bfile,
      btensors.filter((_, i) => i % 10 === 0).map((x) => x.name),
      { seedOf: seedOf('v2') },
    );
    syncDisk();
    const bcB = noteRss('commit (B)', mvmJson(bws, 'commit', '-m', 'B'), bsize);
    const bDiff = Array.from({ length: 3 }, () => noteRss('diff', mvm(bws, 'diff', 'v1', 'v2'), bsize));
    log('big: diff --stats, checkout switch, full restore');
    const bStats = noteRss('diff --stats', mvmJson(bws, 'diff', '--stats', 'v1', 'v2'), bsize);
    syncDisk();
    const bSwitch = noteRss('checkout (switch)', mvm(bws, 'checkout', 'v1'), bsize);
    rmSync(bfile);
    syncDisk();
    const bFull = noteRss('checkout (full restore)', mvm(bws, 'checkout', 'v1'), bsize);
    big = {
      size: bsize,
      generateSeconds: bgen,
      changedBytes: bChanged,
      objectsBytes: bStored,
      firstCommit: {
        seconds: bi.wall + ba.wall + bc.wall,
        commitOnlySeconds: bc.wall,
        rssKB: Math.max(bi.rssKB, ba.rssKB, bc.rssKB),
      },
      status: bStatus.map((r) => ({ s: r.wall, rssKB: r.rssKB })),
      commitB: { seconds: bcB.wall, rssKB: bcB.rssKB, newBytesJson: bcB.json.newBytes },
      diff: bDiff.map((r) => ({ s: r.wall, rssKB: r.rssKB })),
      diffStats: {
        s: bStats.wall,
        rssKB: bStats.rssKB,
        statsBytes: bStats.json.statsBytes,
        statsSeconds: bStats.json.statsSeconds,
      },
      checkoutSwitch: { s: bSwitch.wall, rssKB: bSwitch.rssKB },
      checkoutFull: { s: bFull.wall, rssKB: bFull.rssKB },
    };
    results.sections.big = big;
    rmSync(bws, { recursive: true, force: true });

    const pairs = [
      ['first commit (init+add+commit)', max(firstRss), big.firstCommit.rssKB, med.first, big.firstCommit.seconds],
      [
        'status',
        max(statusRuns.map((r) => r.rssKB)),
        max(bStatus.map((r) => r.rssKB)),
        med.status,
        median(bStatus.map((r) => r.wall)),
      ],
      ['commit B', max(commitBRss), bcB.rssKB, med.commitB, bcB.wall],
      [
        'diff v1 v2',
        max(diffRuns.map((r) => r.rssKB)),
        max(bDiff.map((r) => r.rssKB)),
        med.diff,
        median(bDiff.map((r) => r.wall)),
      ],
      ['diff --stats v1 v2', max(statsRuns.map((r) => r.rssKB)), bStats.rssKB, med.stats, bStats.wall],
      ['checkout (switch)', max(switchRuns.map((r) => r.rssKB)), bSwitch.rssKB, med.switch, bSwitch.wall],
      ['checkout (full restore)', max(fullRuns.map((r) => r.rssKB)), bFull.rssKB, med.full, bFull.wall],
    ];
    big.flatness = pairs.map(([name, a, b]) => ({ name, rssSmallKB: a, rssBigKB: b, ratio: b / a }));
    table(
      `Memory flatness: peak RSS at ${fmtBytes(sizeA)} vs ${fmtBytes(bsize)}`,
      [
        'command',
        `RSS ${opts.sizeGib} GiB`,
        `RSS ${opts.bigGib} GiB`,
        'ratio',
        `time ${opts.sizeGib} GiB`,
        `time ${opts.bigGib} GiB`,
      ],
      pairs.map(([name, a, b, ta, tb]) => [name, fmtMB(a), fmtMB(b), (b / a).toFixed(2), fmtS(ta), fmtS(tb)]),
    );
    say('');
    say(
      `${opts.bigGib} GiB: objects ${fmtBytes(bStored)} (${pct(bStored / bsize)}); first commit ` +
        `${fmtRate(bsize, big.firstCommit.seconds)}; commit B ${fmtS(bcB.wall)} (${fmtBytes(bChanged)} rewritten); ` +
        `diff --stats streamed ${fmtBytes(bStats.json.statsBytes)} at ` +
        `${fmtRate(bStats.json.statsBytes, bStats.json.statsSeconds)} (statsSeconds), ` +
        `${fmtRate(bStats.json.statsBytes, bStats.wall)} (wall); full restore ${fmtRate(bsize, bFull.wall)}`,
    );
  }

  // ------------------------------------------------------------ model-aware storage
  log(`model-aware: header shift on a ${fmtBytes(DEDUP_SIZE)} model`);
  const aware = {};
  const mt = planModel(DEDUP_SIZE);
  const H0 = join(TMP, 'H0.safetensors');
  const H1 = join(TMP, 'H1.safetensors');
  writeModel(H0, mt, { seedOf: seedOf('h'), metadata: { format: 'pt', note: 'base' } });
  // a longer __metadata__: the JSON header grows by a few hundred bytes, shifting every tensor
  writeModel(H1, mt, {
    seedOf: seedOf('h'),
    metadata: { format: 'pt', note: 'base', description: 'fine-tuned on a new dataset; '.repeat(12) + 'x'.repeat(5) },
  });
  const h0 = readHeader(H0).dataStart;
  const h1 = readHeader(H1).dataStart;
  const shift = h1 - h0;
  const hsize = fileSize(H1);
  const hws = join(TMP, 'hshift');
  mkdirSync(hws);
  copyFileSync(H0, join(hws, 'model.safetensors'));
  mvm(hws, 'init');
  mvm(hws, 'add', 'model.safetensors');
  noteRss('commit (first)', mvmJson(hws, 'commit', '-m', 'h0'), fileSize(H0));
  const hBefore = duSb(join(hws, '.mvm', 'objects'));
  copyFileSync(H1, join(hws, 'model.safetensors'));
  const hc = noteRss('commit (header shift)', mvmJson(hws, 'commit', '-m', 'h1'), hsize);
  const hGrowth = duSb(join(hws, '.mvm', 'objects')) - hBefore;
  const fa = fixedChunkHashes(H0);
  const fb = fixedChunkHashes(H1);
  const seen = new Set(fa.map((c) => c.id));
  const fixedNew = fb.filter((c) => !seen.has(c.id)).reduce((s, c) => s + c.size, 0);
  aware.headerShift = {
    size: hsize,
    headerShiftBytes: shift,
    shiftModChunk: shift % CHUNK,
    mvmNewRaw: hc.json.newBytes,
    mvmNewChunks: hc.json.newChunks,
    mvmObjectsGrowth: hGrowth,
    fixedChunkNewBytes: fixedNew,
    fixedChunks: fb.length,
    commitSeconds: hc.wall,
  };
  rmSync(hws, { recursive: true, force: true });
  rmSync(H1);

  log('model-aware: one tensor appended, one resized');
  const EMB = [32000, 1024];
  const base = [
    { name: 'model.embed_tokens.weight', shape: EMB },
    ...planModel(Math.max(DEDUP_SIZE - EMB[0] * EMB[1] * 2, 1)),
  ];
  const grown = [
    { name: 'model.embed_tokens.weight', shape: [EMB[0] + 256, EMB[1]] },
    ...base.slice(1),
    { name: 'score.weight', shape: [4096, 1024] },
  ];
  const R0 = join(TMP, 'R0.safetensors');
  const R1 = join(TMP, 'R1.safetensors');
  // same seeds: the embedding keeps its first 32000 rows (AES-CTR streams share their prefix)
  writeModel(R0, base, { seedOf: seedOf('r'), metadata: { format: 'pt' } });
  const r1w = writeModel(R1, grown, { seedOf: seedOf('r'), metadata: { format: 'pt' } });
  const rws = join(TMP, 'resize');
  mkdirSync(rws);
  copyFileSync(R0, join(rws, 'model.safetensors'));
  mvm(rws, 'init');
  mvm(rws, 'add', 'model.safetensors');
  noteRss('commit (first)', mvmJson(rws, 'commit', '-m', 'r0'), fileSize(R0));
  const rBefore = duSb(join(rws, '.mvm', 'objects'));
  copyFileSync(R1, join(rws, 'model.safetensors'));
  const rc2 = noteRss('commit (append+resize)', mvmJson(rws, 'commit', '-m', 'r1'), fileSize(R1));
  const rGrowth = duSb(join(rws, '.mvm', 'objects')) - rBefore;
  const appended = 4096 * 1024 * 2;
  const resized = (EMB[0] + 256) * EMB[1] * 2;
  const grownRows = 256 * EMB[1] * 2;
  const denomFull = r1w.headerBytes + appended + resized;
  const denomNew = r1w.headerBytes + appended + grownRows;
  aware.appendResize = {
    size: fileSize(R1),
    headerBytes: r1w.headerBytes,
    appendedBytes: appended,
    resizedTensorBytes: resized,
    grownBytes: grownRows,
    mvmNewRaw: rc2.json.newBytes,
    mvmNewChunks: rc2.json.newChunks,
    mvmObjectsGrowth: rGrowth,
    ratioVsTensorsAndHeader: rc2.json.newBytes / denomFull,
    ratioVsNewBytes: rc2.json.newBytes / denomNew,
  };
  rmSync(rws, { recursive: true, force: true });
  rmSync(R0);
  rmSync(R1);

  log(`model-aware: f32 compression on a ${fmtBytes(DEDUP_SIZE)} model`);
  const F = join(TMP, 'F.safetensors');
  writeModel(F, planModel(DEDUP_SIZE, 4), { seedOf: seedOf('f'), dtype: 'F32', metadata: { format: 'pt' } });
  const fsize = fileSize(F);
  const fws = join(TMP, 'f32');
  mkdirSync(fws);
  copyFileSync(F, join(fws, 'model.safetensors'));
  syncDisk();
  const fcRuns = [];
  const fzRuns = [];
  let fStored = 0,
    fz = 0;
  for (let rep = 0; rep < Math.min(opts.reps, 2); rep++) {
    rmSync(join(fws, '.mvm'), { recursive: true, force: true });
    rmSync(join(fws, '.gitignore'), { force: true });
    mvm(fws, 'init');
    mvm(fws, 'add', 'model.safetensors');
    syncDisk();
    fcRuns.push(noteRss('commit (first)', mvmJson(fws, 'commit', '-m', 'f32'), fsize));
    fStored = duSb(join(fws, '.mvm', 'objects'));
    syncDisk();
    fzRuns.push(run('zstd', ['-q', '-f', '-T1', '-3', F, '-o', F + '.zst']));
    fz = fileSize(F + '.zst');
  }
  aware.f32 = {
    size: fsize,
    mvmObjectsBytes: fStored,
    mvmStoredJson: fcRuns[0].json.storedBytes,
    zstdT1Bytes: fz,
    mvmCommitSeconds: fcRuns.map((r) => r.wall),
    zstdT1Seconds: fzRuns.map((r) => r.wall),
  };
  rmSync(fws, { recursive: true, force: true });
  rmSync(F);
  rmSync(F + '.zst', { force: true });

  const bfRatio = storedFirst / sizeA;
  const zRatio = z1Size / sizeA;
  const f32Ratio = fStored / fsize;
  const f32Z = fz / fsize;
  const mvmMBs = sizeA / 1e6 / med.first;
  const mvmCommitMBs = sizeA / 1e6 / med.commitOnly;
  const z1MBs = sizeA / 1e6 / med.z1;
  const restoreMBs = sizeA / 1e6 / med.full;
  const cpMBs = sizeA / 1e6 / med.cp;
  aware.compression = {
    bf16: { raw: sizeA, mvm: storedFirst, zstdT1: z1Size, zstdT2: z2Size },
    f32: { raw: fsize, mvm: fStored, zstdT1: fz },
  };
  aware.throughput = {
    mvmFirstCommitMBs: mvmMBs,
    mvmCommitOnlyMBs: mvmCommitMBs,
    zstdT1MBs: z1MBs,
    zstdT2MBs: sizeA / 1e6 / med.z2,
    restoreMBs,
    switchMBs: sizeA / 1e6 / med.switch,
    zstdDMBs: sizeA / 1e6 / med.zd,
    cpMBs,
  };
  aware.diffStats = { statsRateMBs: statsRate / 1e6, wallRateMBs: statsWallRate / 1e6 };
  results.sections.modelAware = aware;

  const hs = aware.headerShift;
  const ar = aware.appendResize;
  table(
    'Model-aware storage: deduplication',
    ['case', 'file', 'changed', 'mvm new (raw)', 'mvm objects growth', 'fixed 1 MiB chunks new', 'ratio'],
    [
      [
        `header shift (+${hs.headerShiftBytes} B header, ${hs.shiftModChunk} mod 1 MiB)`,
        fmtBytes(hs.size),
        '__metadata__ only',
        `${fmtBytes(hs.mvmNewRaw)} (${pct(hs.mvmNewRaw / hs.size)})`,
        `${fmtBytes(hs.mvmObjectsGrowth)} (${pct(hs.mvmObjectsGrowth / hs.size)})`,
        `${fmtBytes(hs.fixedChunkNewBytes)} (${pct(hs.fixedChunkNewBytes / hs.size)})`,
        `mvm ${pct(hs.mvmNewRaw / hs.size)} vs fixed ${pct(hs.fixedChunkNewBytes / hs.size)}`,
      ],
      [
        'append 8 MiB tensor + embedding 32000->32256 rows',
        fmtBytes(ar.size),
        `header ${fmtBytes(ar.headerBytes)} + appended ${fmtBytes(ar.appendedBytes)} + resized ` +
          `${fmtBytes(ar.resizedTensorBytes)} (grown part ${fmtBytes(ar.grownBytes)})`,
        fmtBytes(ar.mvmNewRaw),
        fmtBytes(ar.mvmObjectsGrowth),
        '',
        `${ar.ratioVsTensorsAndHeader.toFixed(3)} of (header+new+resized); ${ar.ratioVsNewBytes.toFixed(3)} of ` +
          `(header+new+grown rows)`,
      ],
    ],
  );
  table(
    'Model-aware storage: compression and throughput',
    ['measure', 'mvm', 'plain zstd', 'ratio'],
    [
      [
        `bf16 N(0,0.02), ${fmtBytes(sizeA)}: stored / raw`,
        pct(bfRatio),
        `zstd -3: ${pct(zRatio)} (-T2: ${pct(z2Size / sizeA)})`,
        `mvm/zstd ${(storedFirst / z1Size).toFixed(3)}`,
      ],
      [
        `f32 N(0,0.02), ${fmtBytes(fsize)}: stored / raw`,
        pct(f32Ratio),
        `zstd -3: ${pct(f32Z)}`,
        `mvm/zstd ${(fStored / fz).toFixed(3)}`,
      ],
      [
        `f32: time (median of ${fcRuns.length})`,
        fmtS(median(fcRuns.map((r) => r.wall))),
        `zstd -T1 -3: ${fmtS(median(fzRuns.map((r) => r.wall)))}`,
        '',
      ],
      [
        'compress+hash throughput (first commit, init+add+commit)',
        `${mvmMBs.toFixed(0)} MB/s (commit alone ${mvmCommitMBs.toFixed(0)} MB/s)`,
        `zstd -T1 -3: ${z1MBs.toFixed(0)} MB/s`,
        `${(mvmMBs / z1MBs).toFixed(2)}x`,
      ],
      [
        'CPU seconds (user+sys) of that first commit',
        `${fmtS(median(firstRuns.map((r) => r.user + r.sys)))} (commit alone ` +
          `${fmtS(median(commitRuns.map((r) => r.user + r.sys)))})`,
        `zstd -T1 -3: ${fmtS(median(z1Runs.map((r) => r.user + r.sys)))}; -T2: ` +
          `${fmtS(median(z2Runs.map((r) => r.user + r.sys)))}`,
        `${(median(commitRuns.map((r) => r.user + r.sys)) / median(z1Runs.map((r) => r.user + r.sys))).toFixed(
          2,
        )}x zstd -T1 CPU`,
      ],
      [
        'full restore (checkout of a deleted file)',
        `${restoreMBs.toFixed(0)} MB/s`,
        `zstd -d: ${(sizeA / 1e6 / med.zd).toFixed(0)} MB/s; cp: ${cpMBs.toFixed(0)} MB/s`,
        `${(restoreMBs / cpMBs).toFixed(2)}x cp`,
      ],
      [
        'diff --stats v1 v2',
        `${(statsRate / 1e6).toFixed(0)} MB/s (statsBytes/statsSeconds); ${(statsWallRate / 1e6).toFixed(0)} MB/s ` +
          `(bytes/wall)`,
        '',
        '',
      ],
    ],
  );

  bar(
    'model-aware',
    'header shift: second commit stores < 2% of the file anew',
    hs.mvmNewRaw < 0.02 * hs.size,
    `mvm ${pct(hs.mvmNewRaw / hs.size)} raw new (${hs.mvmNewChunks} chunks; objects ` +
      `+${pct(hs.mvmObjectsGrowth / hs.size)}); fixed 1 MiB chunking would store ` +
      `${pct(hs.fixedChunkNewBytes / hs.size)}`,
  );
  bar(
    'model-aware',
    'append + resize: new bytes ~ only new/resized tensors + header (ratio <= 1.05)',
    ar.ratioVsTensorsAndHeader <= 1.05,
    `new raw ${fmtBytes(ar.mvmNewRaw)} = ${ar.ratioVsTensorsAndHeader.toFixed(3)}x (header+appended+resized ` +
      `tensor); ${ar.ratioVsNewBytes.toFixed(3)}x (header+appended+grown rows)`,
  );
  bar(
    'model-aware',
    'bf16 N(0,0.02): stored <= 72% of raw',
    bfRatio <= 0.72,
    `mvm ${pct(bfRatio)}, plain zstd -3 ${pct(zRatio)}`,
  );
  bar(
    'model-aware',
    'f32 N(0,0.02): mvm stores less than plain zstd -3 (no absolute bar)',
    f32Ratio < f32Z,
    `mvm ${pct(f32Ratio)}, plain zstd -3 ${pct(f32Z)}`,
  );
  bar(
    'model-aware',
    'compress+hash throughput >= 2x zstd -T1 -3',
    mvmMBs >= 2 * z1MBs,
    `${mvmMBs.toFixed(0)} MB/s (init+add+commit) vs zstd -T1 -3 ${z1MBs.toFixed(0)} MB/s = ` +
      `${(mvmMBs / z1MBs).toFixed(2)}x (commit alone ${(mvmCommitMBs / z1MBs).toFixed(2)}x)`,
  );
  bar(
    'model-aware',
    'full restore >= 1 GB/s',
    restoreMBs >= 1000,
    `${restoreMBs.toFixed(0)} MB/s; cp of the same file ${cpMBs.toFixed(0)} MB/s, zstd -d ` +
      `${(sizeA / 1e6 / med.zd).toFixed(0)} MB/s`,
  );
  bar('model-aware', `mvm diff of two ${fmtBytes(sizeA)} versions < 0.3 s`, med.diff < 0.3, `median ${fmtS(med.diff)}`);
  bar(
    'model-aware',
    'diff --stats streams >= 500 MB/s',
    statsRate >= 500e6,
    `${(statsRate / 1e6).toFixed(0)} MB/s by statsBytes/statsSeconds; ${(statsWallRate / 1e6).toFixed(0)} MB/s by ` +
      `bytes/wall`,
  );
  bar(
    'kernels',
    'diff --stats streams >= 1 GB/s',
    statsRate >= 1e9,
    `${(statsRate / 1e6).toFixed(0)} MB/s by statsBytes/statsSeconds (the streaming phase: the threads start ` +
      `earlier, while the manifests are compared); ${(statsWallRate / 1e6).toFixed(0)} MB/s by bytes/wall`,
  );

  // memory bars (all mvm commands so far)
  const worst = rssLog.reduce((a, b) => (b.rssKB > a.rssKB ? b : a));
  bar(
    'core',
    'peak RSS < 300 MB for every mvm command',
    worst.rssKB < 300 * 1024,
    `max ${fmtMB(worst.rssKB)} (${worst.label}, ${fmtBytes(worst.size)} file) over ${rssLog.length} mvm runs`,
  );
  if (big) {
    const flat = big.flatness.filter((f) =>
      ['first commit (init+add+commit)', 'status', 'checkout (switch)', 'checkout (full restore)'].includes(f.name),
    );
    const worstFlat = flat.reduce((a, b) => (b.ratio > a.ratio ? b : a));
    bar(
      'core',
      `peak RSS flat: ${opts.bigGib} GiB vs ${opts.sizeGib} GiB for commit, status, checkout (<= 1.2x)`,
      worstFlat.ratio <= 1.2,
      flat.map((f) => `${f.name} ${fmtMB(f.rssSmallKB)} -> ${fmtMB(f.rssBigKB)}`).join('; '),
    );
    const st = big.flatness.find((f) => f.name === 'diff --stats v1 v2');
    bar(
      'model-aware',
      `diff --stats peak RSS flat: ${opts.bigGib} GiB vs ${opts.sizeGib} GiB (<= 1.2x)`,
      st.ratio <= 1.2,
      `${fmtMB(st.rssSmallKB)} -> ${fmtMB(st.rssBigKB)} (${st.ratio.toFixed(2)}x)`,
    );
  } else {
    say('');
    say('(big-file memory flatness check skipped: --big-gib 0)');
  }
  results.rss = rssLog;

  // ------------------------------------------------------------ know your versions
  if (opts.versions > 0) {
    log(
      `versions: building ${opts.versions} versions through the library ` +
        `API${opts.versionsBudget ? ` (at most ${opts.versionsBudget} s)` : ''}`,
    );
    const vdir = join(TMP, 'versions');
    const vargs = [join(HERE, 'versions.mjs'), '--dir', vdir, '--n', String(opts.versions)];
    if (opts.versionsBudget > 0) vargs.push('--max-seconds', String(opts.versionsBudget));
    const vb = run(process.execPath, vargs, { env: { ...process.env, MVM_AUTHOR: 'bench' }, showStderr: true });
    const built = JSON.parse(vb.stdout.trim().split('\n').pop());
    log(`versions: ${built.versions} built; log --where x5`);
    const q = built.query;
    const logRuns = Array.from({ length: 5 }, () => mvm(vdir, 'log', '--where', q, '--oneline'));
    const counts = logRuns.map((r) => r.stdout.split('\n').filter((l) => /^v\d+ /.test(l)).length);
    const allLog = mvm(vdir, 'log', '--oneline');
    const total = allLog.stdout.split('\n').filter((l) => /^v\d+ /.test(l)).length;
    const lm = median(logRuns.map((r) => r.wall));
    const sl = built.slices ?? [];
    results.sections.versions = {
      ...built,
      buildRssKB: vb.rssKB,
      buildWallSeconds: vb.wall,
      mvmDirBytes: duSb(join(vdir, '.mvm')),
      logWhere: logRuns.map((r, i) => ({ s: r.wall, rssKB: r.rssKB, matches: counts[i] })),
      logAll: { s: allLog.wall, rssKB: allLog.rssKB, lines: total },
    };
    const of = built.stoppedEarly
      ? `${built.versions} of ${built.requested} versions (build stopped at the ${opts.versionsBudget} s budget)`
      : `${built.versions} versions`;
    table(
      `Know your versions: ${of}`,
      ['measure', 'value'],
      [
        [
          'build through the library API (init, add, commit x N)',
          `${fmtS(built.buildSeconds)} (${built.perVersionMs.toFixed(1)} ms/version on average), peak RSS ` +
            `${fmtMB(vb.rssKB)}`,
        ],
        ...(sl.length
          ? [
              [
                'ms per version, by tenth of the build',
                sl.map((x) => `${x.to}: ${x.msPerVersion.toFixed(0)}`).join(', '),
              ],
            ]
          : []),
        ['LevelDB index table files after the build', String(built.indexTableFiles ?? 'n/a')],
        ['repository size (.mvm)', fmtBytes(results.sections.versions.mvmDirBytes)],
        [
          `mvm log --where '${q}' --oneline`,
          `median ${fmtS(lm)}, max ${fmtS(max(logRuns.map((r) => r.wall)))}, peak RSS ` +
            `${fmtMB(max(logRuns.map((r) => r.rssKB)))}`,
        ],
        [
          'matches printed / expected (counted from the generated values)',
          `${counts[0]} / ` +
            `${built.expectedMatches}${counts.every((c) => c === counts[0]) ? '' : ` (varied: ${counts.join(', ')})`}`,
        ],
        ['mvm log --oneline (all versions)', `${fmtS(allLog.wall)}, ${total} lines`],
      ],
    );
    bar(
      'versions',
      `mvm log --where over ${opts.versions} versions < 300 ms`,
      !built.stoppedEarly && lm < 0.3,
      (built.stoppedEarly
        ? `NOT MEASURED AT ${built.requested}: only ${built.versions} versions were built in ` +
          `${opts.versionsBudget} s; over those, `
        : '') +
        `median ${fmtS(lm)}, max ${fmtS(max(logRuns.map((r) => r.wall)))} (node start-up alone ${fmtS(med.node)})`,
    );
    bar(
      'versions',
      'log --where finds exactly the versions the bench generated to match',
      counts.every((c) => c === built.expectedMatches) && total === built.versions,
      `${counts[0]} printed, ${built.expectedMatches} expected; ${total} of ${built.versions} versions in the full log`,
    );
    rmSync(vdir, { recursive: true, force: true });
  } else {
    say('');
    say('(versions section skipped: --versions 0)');
  }

  // ------------------------------------------------------------ peers
  if (opts.peers) {
    const mvmRow = [
      'mvm (medians above)',
      fmtS(med.first),
      fmtMB(max(firstRss)),
      `${fmtBytes(storedFirst)} (${pct(storedFirst / sizeA)})`,
      fmtS(med.commitB),
      `+${fmtBytes(growth)} (${(growth / changedBytes).toFixed(2)}x changed)`,
      fmtS(med.full),
      fmtMB(max([...firstRss, ...commitBRss, ...fullRuns.map((r) => r.rssKB)])),
    ];
    results.sections.peers = runPeers(A, B, sizeA, changedBytes, mvmRow);
  }

  // ------------------------------------------------------------ remotes
  if (opts.remotes) {
    const { runRemotes } = await import('./remotes.mjs');
    const mvmRun = (cwd, env, ...args) => run(process.execPath, [MVM, ...args], { cwd, env });
    results.sections.remotes = await runRemotes(
      { run, mvmRun, say, table, bar, fmtS, fmtMB, fmtBytes, fmtRate, have, log, syncDisk, duSb, ROOT, TMP },
      A,
      B,
      sizeA,
    );
  }

  // ------------------------------------------------------------ summary
  say('');
  say('## Summary of bars');
  say('');
  for (const b of bars)
    say(`- ${b.pass ? 'PASS' : 'MISS'} [${b.section}] ${b.name}: ${b.measured}${b.note ? ` (${b.note})` : ''}`);
  const missed = bars.filter((b) => !b.pass).length;
  say('');
  say(
    `${bars.length - missed} of ${bars.length} bars passed; total bench time ` +
      `${((performance.now() - started) / 1000).toFixed(0)} s`,
  );
  results.totalSeconds = (performance.now() - started) / 1000;
  results.report = out.join('\n');
  if (opts.out) {
    writeFileSync(opts.out, JSON.stringify(results, null, 2) + '\n');
    log(`results written to ${opts.out}`);
  }
} finally {
  cleanup();
}

// ---------------------------------------------------------------- peer tools

function have(bin) {
  return spawnSync('sh', ['-c', `command -v ${bin}`]).status === 0;
}

/** Times Git LFS, restic and borg on the same A -> B pair (installed with apt-get when missing). */
function runPeers(A, B, sizeA, changedBytes, mvmRow) {
  const want = { 'git-lfs': 'git-lfs', restic: 'restic', borg: 'borgbackup' };
  const missing = Object.entries(want).filter(([bin]) => !have(bin));
  if (missing.length && process.getuid?.() === 0) {
    log(`peers: apt-get install -y ${missing.map(([, p]) => p).join(' ')}`);
    spawnSync('apt-get', ['install', '-y', '-q', ...missing.map(([, p]) => p)], {
      stdio: 'ignore',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  }
  const rows = [];
  const res = {};
  const skipped = [];
  const pdir = join(TMP, 'peers');
  const step = (name, fn) => {
    try {
      res[name] = fn();
      const p = res[name];
      rows.push([
        name,
        fmtS(p.first.wall),
        fmtMB(p.first.rssKB),
        `${fmtBytes(p.stored1)} (${pct(p.stored1 / sizeA)})`,
        fmtS(p.second.wall),
        `+${fmtBytes(p.growth)} (${(p.growth / changedBytes).toFixed(2)}x changed)`,
        fmtS(p.restore.wall),
        fmtMB(Math.max(p.first.rssKB, p.second.rssKB, p.restore.rssKB)),
      ]);
    } catch (e) {
      skipped.push(`${name} (${String(e.message ?? e).split('\n')[0]})`);
    }
    rmSync(pdir, { recursive: true, force: true });
  };
  const gitEnv = {
    ...process.env,
    GIT_AUTHOR_NAME: 'bench',
    GIT_AUTHOR_EMAIL: 'b@x',
    GIT_COMMITTER_NAME: 'bench',
    GIT_COMMITTER_EMAIL: 'b@x',
  };

  if (have('git-lfs')) {
    step('git-lfs', () => {
      mkdirSync(pdir, { recursive: true });
      sh('git', ['init', '-q'], { cwd: pdir });
      sh('git', ['lfs', 'install', '--local'], { cwd: pdir });
      sh('git', ['lfs', 'track', '*.safetensors'], { cwd: pdir });
      sh('git', ['add', '.gitattributes'], { cwd: pdir, env: gitEnv });
      sh('git', ['commit', '-q', '-m', 'attrs'], { cwd: pdir, env: gitEnv });
      const f = join(pdir, 'model.safetensors');
      copyFileSync(A, f);
      syncDisk();
      const add1 = run('git', ['add', 'model.safetensors'], { cwd: pdir, env: gitEnv });
      const c1 = run('git', ['commit', '-q', '-m', 'A'], { cwd: pdir, env: gitEnv });
      const stored1 = duSb(join(pdir, '.git'));
      copyFileSync(B, f);
      syncDisk();
      const add2 = run('git', ['add', 'model.safetensors'], { cwd: pdir, env: gitEnv });
      const c2 = run('git', ['commit', '-q', '-m', 'B'], { cwd: pdir, env: gitEnv });
      const growth = duSb(join(pdir, '.git')) - stored1;
      unlinkSync(f);
      syncDisk();
      const restore = run('git', ['checkout', '--', 'model.safetensors'], { cwd: pdir, env: gitEnv });
      if (fileSize(f) !== fileSize(B)) throw new Error('restore size mismatch');
      return {
        first: { wall: add1.wall + c1.wall, rssKB: Math.max(add1.rssKB, c1.rssKB) },
        second: { wall: add2.wall + c2.wall, rssKB: Math.max(add2.rssKB, c2.rssKB) },
        stored1,
        growth,
        restore,
      };
    });
  } else skipped.push('git-lfs (not installed)');

  if (have('restic')) {
    step('restic', () => {
      const repo = join(pdir, 'repo');
      const src = join(pdir, 'src');
      mkdirSync(src, { recursive: true });
      const env = {
        ...process.env,
        RESTIC_PASSWORD: 'bench',
        RESTIC_REPOSITORY: repo,
        RESTIC_CACHE_DIR: join(pdir, 'cache'),
      };
      sh('restic', ['init', '-q'], { env });
      const f = join(src, 'model.safetensors');
      copyFileSync(A, f);
      syncDisk();
      const first = run('restic', ['backup', '-q', src], { env });
      const stored1 = duSb(repo);
      copyFileSync(B, f);
      syncDisk();
      const second = run('restic', ['backup', '-q', src], { env });
      const growth = duSb(repo) - stored1;
      const target = join(pdir, 'restore');
      syncDisk();
      const restore = run('restic', ['restore', '-q', 'latest', '--target', target], { env });
      return { first, second, stored1, growth, restore };
    });
  } else skipped.push('restic (not installed)');

  if (have('borg')) {
    step('borg', () => {
      const repo = join(pdir, 'repo');
      const src = join(pdir, 'src');
      mkdirSync(src, { recursive: true });
      const env = {
        ...process.env,
        BORG_UNKNOWN_UNENCRYPTED_REPO_ACCESS_IS_OK: 'yes',
        BORG_BASE_DIR: join(pdir, 'base'),
      };
      sh('borg', ['init', '-e', 'none', repo], { env });
      const f = join(src, 'model.safetensors');
      copyFileSync(A, f);
      syncDisk();
      const first = run('borg', ['create', '--compression', 'zstd,3', `${repo}::a`, '.'], { env, cwd: src });
      const stored1 = duSb(repo);
      copyFileSync(B, f);
      syncDisk();
      const second = run('borg', ['create', '--compression', 'zstd,3', `${repo}::b`, '.'], { env, cwd: src });
      const growth = duSb(repo) - stored1;
      const target = join(pdir, 'restore');
      mkdirSync(target);
      syncDisk();
      const restore = run('borg', ['extract', `${repo}::b`], { env, cwd: target });
      return { first, second, stored1, growth, restore };
    });
  } else skipped.push('borg (not installed)');

  if (rows.length) {
    rows.unshift(mvmRow);
    table(
      `Peers on the same A -> B pair (${fmtBytes(sizeA)}, one run each)`,
      ['tool', 'first version', 'RSS', 'stored', 'second (B)', 'growth', 'full restore', 'peak RSS'],
      rows,
    );
    say('');
    say(
      'git-lfs: `git add` + `git commit` (the first commit stores the object under .git/lfs); restore = `git ' +
        'checkout -- file` after deleting it. restic: `backup` of the folder (repository format default of the ' +
        'installed version); restore = `restore latest`. borg: `create --compression zstd,3`; restore = `extract`.',
    );
  }
  if (skipped.length) {
    say('');
    say(`Peers skipped: ${skipped.join('; ')}`);
  }
  return { ...res, skipped };
}
