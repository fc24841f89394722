// The know-your-versions section: `mvm log --where` over a history of N versions built by bench/versions.mjs.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { median, max, fmtS, fmtMB, fmtBytes } from '../lib/format.mjs';
import { log, say, table, bar } from '../lib/report.mjs';
import { run, mvm, duSb } from '../lib/proc.mjs';
import { HERE, opts, TMP } from '../lib/setup.mjs';

export function runVersions(results, c) {
  const { med } = c;
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
        [
          'summary file (.mvm/summaries) after the build',
          built.summaryFileBytes == null ? 'n/a' : fmtBytes(built.summaryFileBytes),
        ],
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
}
