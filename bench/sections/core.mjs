// The core store section: mvm against cp and zstd on a model A and its version B.
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { planModel, writeModel, patchTensors } from '../gen.mjs';
import { median, max, fmtS, fmtMB, fmtBytes, fmtRate, pct } from '../lib/format.mjs';
import { log, table, bar } from '../lib/report.mjs';
import { run, MVM_ENV, mvm, mvmJson, syncDisk, dropCaches, duSb, fileSize, noteRss } from '../lib/proc.mjs';
import { have, installMissing } from '../lib/proc.mjs';
import { MVM, opts, TMP, SIZE, seedOf } from '../lib/setup.mjs';

/** Waits (up to 30 s) until a workspace's .mvm/trash is empty: the background unlink of a switch has finished. */
function waitTrashEmpty(ws) {
  const trash = join(ws, '.mvm', 'trash');
  const until = Date.now() + 30_000;
  while (existsSync(trash) && readdirSync(trash).length && Date.now() < until)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
}

export function runCore(results) {
  // ------------------------------------------------------------ core store
  // the floor of a commit: reading and hashing the file on both cores
  installMissing('core', { b3sum: 'b3sum' });
  const hasB3 = have('b3sum');
  log(`generating ${opts.sizeGib} GiB model A and version B (every 10th tensor rewritten)`);
  const A = join(TMP, 'A.safetensors');
  const B = join(TMP, 'B.safetensors');
  const tensors = planModel(SIZE);
  const t = performance.now();
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
    commitBRuns = [],
    b3Runs = [];
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
        const r = run(MVM, ['commit', '-m', 'x'], { cwd: ws, env: MVM_ENV, allowFail: true });
        if (r.status !== 1 || !/nothing to commit/.test(r.stdout + r.stderr))
          throw new Error(`no-op commit: exit ${r.status}: ${r.stdout}${r.stderr}`);
        return noteRss('commit (no-op)', r, sizeA);
      });
    }
    // version B over the tracked file, then commit
    copyFileSync(B, wsFile);
    const before = duSb(join(ws, '.mvm', 'objects'));
    syncDisk();
    if (hasB3) b3Runs.push(run('b3sum', ['--num-threads', '2', wsFile]));
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
  const cpNewRuns = [];
  const cpOverRuns = [];
  // alternate v1 (detached) and main (v2); every one rewrites the file. Each is paired with cp of the workspace
  // file into a new file, its floor on a filesystem without shared extents, measured right before it, and with
  // cp into a new file renamed over an existing copy: what replacing a file whole costs with the tools at hand
  // (on ext4 the rename allocates the new file's delayed blocks, auto_da_alloc)
  for (let rep = 0; rep < opts.reps; rep++) {
    const cpOut = join(TMP, 'cp-switch.out');
    const replaced = join(TMP, 'cp-switch.old');
    syncDisk();
    cpNewRuns.push(run('cp', [wsFile, cpOut]));
    rmSync(cpOut);
    copyFileSync(wsFile, replaced);
    syncDisk();
    cpOverRuns.push(run('sh', ['-c', 'cp "$1" "$2" && mv -f "$2" "$3"', 'sh', wsFile, cpOut, replaced]));
    rmSync(replaced);
    syncDisk();
    switchRuns.push(noteRss('checkout (switch)', mvmJson(ws, 'checkout', rep % 2 ? 'main' : 'v1'), sizeA));
    // the old file is unlinked by a background process after the switch returns: let it finish before
    // anything else is timed, so it costs the next measurement nothing
    waitTrashEmpty(ws);
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
    b3: b3Runs.length ? mw(b3Runs) : NaN,
    status: mw(statusRuns),
    noop: mw(noopRuns),
    diff: mw(diffRuns),
    switch: mw(switchRuns),
    cpNew: mw(cpNewRuns),
    cpOver: mw(cpOverRuns),
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
    b3sumT2: slim(b3Runs),
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
    checkoutSwitch: slim(switchRuns, (r) => ({
      bytesCopied: r.json.bytesCopied,
      bytesChecked: r.json.bytesChecked,
      bytesDecoded: r.json.bytesDecoded,
    })),
    cpWorkspaceFile: slim(cpNewRuns),
    cpRenamedOverCopy: slim(cpOverRuns),
    checkoutFull: slim(fullRuns),
    restoredSizeOk: restoredOk,
    diffStats: slim(statsRuns, (r) => ({ statsBytes: r.json.statsBytes, statsSeconds: r.json.statsSeconds })),
    nodeStartup: slim(nodeRuns),
    medians: med,
  });
  results.sections.core = core;

  // CPU = user + sys of the process and all its threads; CPU/wall near 2 means both cores were busy for it
  const cpuWall = (runs) => (median(runs.map((r) => r.user + r.sys)) / median(runs.map((r) => r.wall))).toFixed(2);
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
      ...(b3Runs.length ? [rowOf('b3sum --num-threads 2 B', b3Runs, `${fmtRate(sizeA, med.b3)} (commit floor)`)] : []),
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
      rowOf(
        'mvm checkout (switch v1<->v2)',
        switchRuns,
        `${fmtRate(sizeA, med.switch)}; copied in the kernel ` +
          `${fmtBytes(median(switchRuns.map((r) => r.json.bytesCopied ?? 0)))}, decoded ` +
          `${fmtBytes(median(switchRuns.map((r) => r.json.bytesDecoded ?? 0)))}`,
      ),
      rowOf('cp of the workspace file into a new file (before each switch)', cpNewRuns, fmtRate(sizeA, med.cpNew)),
      rowOf(
        'cp into a new file, mv over a copy of the file (before each switch)',
        cpOverRuns,
        `${fmtRate(sizeA, med.cpOver)} (replacing a file whole with cp and mv)`,
      ),
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
    'speed',
    'first commit (init+add+commit) <= 0.6x zstd -T2 -3 time',
    med.first <= 0.6 * med.z2,
    `${fmtS(med.first)} vs 0.6 x ${fmtS(med.z2)} = ${fmtS(0.6 * med.z2)} (${(med.first / med.z2).toFixed(2)}x; ` +
      `CPU/wall ${cpuWall(firstRuns)})`,
  );
  bar(
    'speed',
    'commit of B (10% of tensors changed) <= 2x b3sum --num-threads 2 of B',
    med.commitB <= 2 * med.b3,
    hasB3
      ? `${fmtS(med.commitB)} vs 2 x ${fmtS(med.b3)} = ${fmtS(2 * med.b3)} (${(med.commitB / med.b3).toFixed(2)}x; ` +
          `CPU/wall ${cpuWall(commitBRuns)})`
      : 'not measured: b3sum is not installed (Debian package b3sum)',
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
    'switch <= 1.1x cp (checkout v1<->v2, 10% of tensors apart, vs cp of the file into a new file)',
    med.switch <= 1.1 * med.cpNew,
    `${fmtS(med.switch)} vs ${fmtS(med.cpNew)} (${(med.switch / med.cpNew).toFixed(2)}x); cp A earlier in the run ` +
      `${fmtS(med.cp)}; cp then mv over a copy of the file ${fmtS(med.cpOver)} ` +
      `(${(med.switch / med.cpOver).toFixed(2)}x)`,
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
  return {
    A,
    B,
    sizeA,
    changedBytes,
    med,
    storedFirst,
    growth,
    z1Size,
    z2Size,
    firstRss,
    commitBRss,
    firstRuns,
    commitRuns,
    z1Runs,
    z2Runs,
    statusRuns,
    diffRuns,
    statsRuns,
    switchRuns,
    fullRuns,
    statsRate,
    statsWallRate,
  };
}
