#!/usr/bin/env node
// The mvm benchmark: times mvm against plain tools (cp, zstd) in the same run
// and checks the bars of the "core store", "model-aware storage" and "know
// your versions" issues. Every measured command is a separate process run
// through /usr/bin/time (wall time from the parent, peak RSS from %M, which
// counts worker threads since they belong to the same process).
//
//   node bench/run.mjs [--size-gib 1] [--big-gib 4] [--versions 10000]
//                      [--versions-budget 720] [--reps 3] [--peers] [--remotes] [--finetune-mib 64] [--quick]
//                      [--out results.json] [--keep] [--record]
//
// --versions-budget caps the seconds spent building the N-version history
// (0 = no cap): the query is then timed on the versions built so far, and the
// bar is a MISS since it was not measured at N.
//
// Inputs are generated in a temporary directory under /tmp, removed at the end
// (unless --keep). The report goes to stdout, progress to stderr.
import { writeFileSync } from 'node:fs';
import { max, fmtS, fmtMB, fmtBytes, fmtRate, pct } from './lib/format.mjs';
import { log, out, say, table, bars, bar } from './lib/report.mjs';
import { ROOT, MVM, opts, TMP, cleanup, DEDUP_SIZE } from './lib/setup.mjs';
import { run, syncDisk, have, installMissing } from './lib/proc.mjs';
import { machineInfo } from './lib/machine.mjs';
import { runCore } from './sections/core.mjs';
import { runBig, memoryBars } from './sections/big.mjs';
import { runModelAware } from './sections/modelAware.mjs';
import { runVersions } from './sections/versions.mjs';
import { runPeers } from './sections/peers.mjs';

const results = { machine: machineInfo(), options: opts, sections: {}, bars };
const started = performance.now();

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

  const c = runCore(results);
  const { A, B, sizeA, changedBytes, med, storedFirst, growth, firstRss, commitBRss, fullRuns } = c;
  const big = runBig(results, c);
  runModelAware(results, c);
  memoryBars(results, big);
  runVersions(results, c);

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
    const h = { run, mvmRun, say, table, bar, fmtS, fmtMB, fmtBytes, fmtRate, have, installMissing, log, syncDisk };
    results.sections.remotes = await runRemotes({ ...h, ROOT, TMP, finetuneMib: opts.finetuneMib }, A, B, sizeA);
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
