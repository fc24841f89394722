// Builds a repository of N small versions through the library API (in-process:
// spawning `mvm commit` N times would measure process start-up, not mvm).
//
//   node bench/versions.mjs --dir DIR [--n 10000] [--seed 1] [--max-seconds S]
//
// Every version commits a different small file with --metric accuracy=U(0.5,1),
// --param lr=log-uniform(1e-4,1e-1) and --meta dataset=one of four names, all
// from a seeded PRNG. Prints one JSON line: the build time and how many
// versions satisfy `metrics.accuracy > 0.9 and params.lr < 0.01`, counted here
// from the generated values, so the bench can check `mvm log --where` against it.
// With --max-seconds, building stops early when it runs out of time (the
// output then says how many versions were made); ms/version is reported per
// tenth of the build, to show whether commits slow down as the history grows.
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { prng } from '../scripts/lib/prng.mjs';

// worker threads are for big files: these are a few bytes, so chunk them inline
process.env.MVM_WORKERS ??= '0';
const { init, add, commit, Repository } = await import('../dist/index.js');

function arg(name, dflt) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : dflt;
}

const dir = arg('dir');
const n = Number(arg('n', '10000'));
const seed = Number(arg('seed', '1'));
const maxSeconds = Number(arg('max-seconds', 'Infinity'));
if (!dir || !Number.isInteger(n) || n < 1) {
  console.error('usage: node bench/versions.mjs --dir DIR [--n N] [--seed S]');
  process.exit(2);
}

mkdirSync(dir, { recursive: true });
const rand = prng(seed);
const datasets = ['imagenet-2024', 'cifar-100', 'laion-subset', 'internal-v3'];
const started = performance.now();
init({ dir });
const repo = Repository.open(dir);
const file = join(dir, 'model.bin');
writeFileSync(file, 'v0\n');
await add(repo, [file], dir);
let expected = 0;
let created = 0;
const progressEvery = Math.max(1, Math.floor(n / 10));
const slices = [];
let sliceStart = performance.now();
let sliceFrom = 1;
let stoppedEarly = false;
for (let i = 1; i <= n; i++) {
  if ((performance.now() - started) / 1000 > maxSeconds) {
    stoppedEarly = true;
    break;
  }
  const accuracy = 0.5 + 0.5 * rand();
  const lr = 10 ** (-4 + 3 * rand());
  const dataset = datasets[Math.floor(rand() * datasets.length)];
  if (accuracy > 0.9 && lr < 0.01) expected++;
  // a different small content (and size) every time
  writeFileSync(file, `version ${i} ${rand().toString(36)}\n`.repeat(1 + (i % 7)));
  const r = await commit(repo, {
    message: `run ${i}`,
    author: 'bench',
    metrics: { accuracy },
    params: { lr },
    meta: { dataset },
  });
  if (!r.created) throw new Error(`version ${i} was not created (the stat cache vouched for a changed file?)`);
  created++;
  if (i % progressEvery === 0 || i === n) {
    const now = performance.now();
    slices.push({ from: sliceFrom, to: i, msPerVersion: (now - sliceStart) / (i - sliceFrom + 1) });
    sliceStart = now;
    sliceFrom = i + 1;
    process.stderr.write(
      `  versions: ${i}/${n} (${((now - started) / 1000).toFixed(1)} s, ${slices.at(-1).msPerVersion.toFixed(1)} ` +
        `ms/version lately)\n`,
    );
  }
}
if (stoppedEarly && sliceFrom <= created)
  slices.push({
    from: sliceFrom,
    to: created,
    msPerVersion: (performance.now() - sliceStart) / (created - sliceFrom + 1),
  });
const seconds = (performance.now() - started) / 1000;
// the summary file every log reads: its size after the build (each commit appended one summary to it)
let summaryBytes = null;
try {
  summaryBytes = statSync(join(dir, '.mvm', 'summaries')).size;
} catch {
  /* no summary file */
}
console.log(
  JSON.stringify({
    versions: created,
    requested: n,
    stoppedEarly,
    buildSeconds: seconds,
    perVersionMs: (seconds * 1000) / created,
    slices,
    summaryFileBytes: summaryBytes,
    expectedMatches: expected,
    query: 'metrics.accuracy > 0.9 and params.lr < 0.01',
  }),
);
