#!/usr/bin/env node
// Short read commands of two builds on one history, interleaved: this build against a baseline build (another
// work tree after `npm run build`), each on its own copy of a repository made by bench/versions.mjs (the two builds
// may keep their derived files in different formats; each warms its copy first). Medians per command and side,
// and new / old. For the "no measure more than 5% slower" rule of a refactor.
// Usage: node bench/abShort.mjs --baseline DIR --repo DIR [--reps 21] [--series 3] [--record]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'refactor', command: 'node bench/abShort.mjs --baseline DIR --repo DIR' });

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
};
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const baseline = arg('baseline');
const repo = arg('repo');
if (!baseline || !repo) throw new Error('usage: node bench/abShort.mjs --baseline DIR --repo DIR [--reps N]');
const reps = Number(arg('reps', '21'));
const series = Number(arg('series', '3'));
const cmds = [
  ['log -n 10', ['log', '-n', '10']],
  ['log --where', ['log', '--where', 'metrics.accuracy > 0.9 and params.lr < 0.01']],
  ['best --metric accuracy', ['best', '--metric', 'accuracy']],
  ['status', ['status']],
];
const work = mkdtempSync(join(tmpdir(), 'mvm-ab-'));
const sides = {
  new: { bin: join(root, 'bin/mvm.js'), dir: join(work, 'new') },
  old: { bin: join(baseline, 'bin/mvm.js'), dir: join(work, 'old') },
};
const run = (side, args) => {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, [sides[side].bin, ...args], {
    cwd: sides[side].dir,
    encoding: 'utf8',
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`${side} ${args.join(' ')}: ${r.stderr}`);
  return Number(process.hrtime.bigint() - t0) / 1e6;
};
const times = {};
try {
  for (const side of Object.keys(sides)) {
    execFileSync('cp', ['-a', repo, sides[side].dir]);
    run(side, ['log', '-n', '1']); // builds or brings up to date its derived files
  }
  for (let i = 0; i < reps * series; i++)
    for (const [name, args] of cmds)
      for (const side of i % 2 ? ['new', 'old'] : ['old', 'new'])
        (times[name] ??= { new: [], old: [] })[side].push(run(side, args));
} finally {
  rmSync(work, { recursive: true, force: true });
}
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
console.log('# mvm short commands, two builds interleaved');
console.log(`- date: ${new Date().toUTCString()}`);
console.log(
  `- machine: ${cpus().length} cores, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load average at end ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
console.log(`- node ${process.version}; ${reps * series} runs per command and side, alternating which side runs first`);
console.log(`- baseline: ${baseline}; repository: ${repo}\n`);
console.log('| command | old (ms) | new (ms) | new / old |\n| --- | ---: | ---: | ---: |');
for (const [name, t] of Object.entries(times))
  console.log(
    `| ${name} | ${med(t.old).toFixed(0)} | ${med(t.new).toFixed(0)} | ${(med(t.new) / med(t.old)).toFixed(3)} |`,
  );
