// The big-file section (memory flatness) and the memory bars over every mvm command of the run.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { planModel, writeModel, patchTensors } from '../gen.mjs';
import { median, max, fmtS, fmtMB, fmtBytes, fmtRate, pct, GiB } from '../lib/format.mjs';
import { log, say, table, bar } from '../lib/report.mjs';
import { mvm, mvmJson, syncDisk, duSb, fileSize, rssLog, noteRss } from '../lib/proc.mjs';
import { opts, TMP, seedOf } from '../lib/setup.mjs';

export function runBig(results, c) {
  const { sizeA, med, firstRss, commitBRss, statusRuns, diffRuns, statsRuns, switchRuns, fullRuns } = c;
  // ------------------------------------------------------------ big file: memory flatness
  let big = null;
  if (opts.bigGib > 0) {
    const BIG = Math.round(opts.bigGib * GiB);
    log(`big: generating ${opts.bigGib} GiB model in a fresh workspace`);
    const bws = join(TMP, 'big');
    mkdirSync(bws);
    const bfile = join(bws, 'model.safetensors');
    const btensors = planModel(BIG);
    const t = performance.now();
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
  return big;
}

export function memoryBars(results, big) {
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
}
