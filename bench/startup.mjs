#!/usr/bin/env node
// Start-up: short commands against `node -e ""` in the same run, interleaved.
// A 1 GiB bf16 model v1 and v2 (every tenth tensor rewritten) for `status`
// on the clean workspace and `diff v1 v2`; a 10,000-version repository built
// through the library API (bench/versions.mjs) for `log -n 10`,
// `log --where` and `best`. Bars from issue 28: status, diff and log -n 10 at most
// +50 ms over node, log --where and best at most +60 ms. Each command runs as users run it,
// through the launcher bin/mvm (Node started from the start-up snapshot), and, in the same loop,
// as `node bin/mvm.js` (today's bundle, no snapshot) for the comparison.
// With --baseline DIR (another build of mvm, e.g. a git worktree of an older
// commit after `npm run build`), its bin/mvm.js runs the same commands in the same
// loop, for a before/after comparison within one run.
// With --versions-from DIR, the history is a copy of DIR, one that bench/versions.mjs built before (its last
// output line saved as DIR.json), instead of a new one (building 10,000 versions takes minutes).
// Usage: npm run bench:startup [-- --size-gib N --versions N --reps N --baseline DIR --versions-from DIR]
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { patchTensors, planModel, writeModel } from './gen.mjs';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 'startup' });

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const bi = process.argv.indexOf('--baseline');
const BASELINE = bi >= 0 ? join(process.argv[bi + 1], 'bin/mvm.js') : null;
const ri = process.argv.indexOf('--versions-from');
const REUSE = ri >= 0 ? process.argv[ri + 1] : null;
const LAUNCHER = join(root, 'bin/mvm');
const sizeGib = arg('size-gib', 1);
const versions = arg('versions', 10000);
const reps = arg('reps', 11);
const dir = mkdtempSync(join(tmpdir(), 'mvm-startup-'));
const MiB = 1 << 20;
const MVM = join(root, 'bin/mvm.js');
const env = { ...process.env, MVM_AUTHOR: 'bench' };

/** Wall seconds of one process; `ok` lists the exit codes that count as success. */
function timed(cmd, args, cwd, ok = [0]) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd, env, encoding: 'utf8', maxBuffer: 256 * MiB });
  const wall = Number(process.hrtime.bigint() - t0) / 1e9;
  if (!ok.includes(r.status)) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr}`);
  return { wall, out: r.stdout };
}
const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const ms = (s) => `${(s * 1000).toFixed(0)} ms`;

/**
 * A copy of repository `src` for the baseline build, warmed up with `warm`: two builds may keep their derived
 * files (caches, summaries) in different formats, and each rewriting the other's would time neither.
 */
function baselineCopy(src, warm) {
  if (!BASELINE) return null;
  const copy = `${src}-baseline`;
  execFileSync('cp', ['-a', src, copy]);
  timed(process.execPath, [BASELINE, ...warm], copy);
  return copy;
}

/** Runs every command `reps` times, interleaved with the node reference, and returns medians. */
function measure(cwd, commands, baseCwd = cwd) {
  const walls = new Map([
    ['node', []],
    ...commands.flatMap((c) => [
      [c.name, []],
      [`${c.name}@bundle`, []],
      [`${c.name}@baseline`, []],
    ]),
  ]);
  for (let r = 0; r < reps; r++) {
    walls.get('node').push(timed(process.execPath, ['-e', ''], cwd).wall);
    for (const c of commands) {
      if (c.script) walls.get(c.name).push(timed(process.execPath, [c.script, ...c.args], cwd, c.ok).wall);
      else {
        walls.get(c.name).push(timed(LAUNCHER, c.args, cwd, c.ok).wall);
        walls.get(`${c.name}@bundle`).push(timed(process.execPath, [MVM, ...c.args], cwd, c.ok).wall);
      }
      if (BASELINE && !c.script)
        walls.get(`${c.name}@baseline`).push(timed(process.execPath, [BASELINE, ...c.args], baseCwd, c.ok).wall);
    }
  }
  return new Map([...walls].filter(([, v]) => v.length).map(([k, v]) => [k, median(v)]));
}

const rows = [];
const bars = [];
function judge(name, med, node, budget, base, bundle) {
  const over = med - node;
  rows.push(
    `| ${name} | ${ms(med)} | +${ms(over)} | +${ms(budget)} | ${ms(bundle)} (+${ms(bundle - node)}) |` +
      `${BASELINE ? ` ${ms(base)} (+${ms(base - node)}) |` : ''}`,
  );
  bars.push(
    `- ${over <= budget ? 'PASS' : 'MISS'} ${name}: +${ms(over)} over node -e "" (median ${ms(med)} vs ` +
      `${ms(node)}), bar +${ms(budget)}`,
  );
}

try {
  console.error(`startup bench in ${dir}`);
  // --------------------------------------------------------------- 1 GiB workspace
  const ws = join(dir, 'ws');
  mkdirSync(ws);
  const tensors = planModel(sizeGib * 1024 * MiB);
  const model = join(ws, 'model.safetensors');
  writeModel(model, tensors, { seedOf: (n) => n });
  timed(process.execPath, [MVM, 'init'], ws);
  timed(process.execPath, [MVM, 'add', 'model.safetensors'], ws);
  timed(process.execPath, [MVM, 'commit', '-m', 'v1'], ws);
  patchTensors(
    model,
    tensors.filter((_, k) => k % 10 === 3).map((t) => t.name),
    { seedOf: (n) => `${n}-v2` },
  );
  timed(process.execPath, [MVM, 'commit', '-m', 'v2'], ws);
  timed(process.execPath, [MVM, 'status'], ws);
  const wsBase = baselineCopy(ws, ['status']);
  execFileSync('sync');
  const w = measure(
    ws,
    [
      { name: 'status', args: ['status'] },
      { name: 'diff v1 v2', args: ['diff', 'v1', 'v2'] },
    ],
    wsBase ?? ws,
  );
  const judgeOf = (m, key, label, budget) =>
    judge(label, m.get(key), m.get('node'), budget, m.get(`${key}@baseline`), m.get(`${key}@bundle`));
  judgeOf(w, 'status', `status (clean ${sizeGib} GiB workspace)`, 0.05);
  judgeOf(w, 'diff v1 v2', `diff v1 v2 (${sizeGib} GiB)`, 0.05);
  rmSync(ws, { recursive: true, force: true });
  if (wsBase) rmSync(wsBase, { recursive: true, force: true });

  // --------------------------------------------------------------- many versions
  const vdir = join(dir, 'versions');
  let built;
  if (REUSE) {
    // a history bench/versions.mjs built earlier (the folder, and beside it DIR.json: the line it printed)
    console.error(`copying the history in ${REUSE}`);
    execFileSync('cp', ['-a', REUSE, vdir]);
    built = JSON.parse(readFileSync(`${REUSE}.json`, 'utf8').trim().split('\n').pop());
  } else {
    console.error(`building ${versions} versions`);
    const line = execFileSync(
      process.execPath,
      [join(root, 'bench/versions.mjs'), '--dir', vdir, '--n', String(versions)],
      { env, encoding: 'utf8', maxBuffer: 64 * MiB },
    );
    built = JSON.parse(line.trim().split('\n').pop());
  }
  const where = built.query;
  timed(process.execPath, [MVM, 'log', '-n', '1'], vdir);
  // a reader of every summary writes the derived summary columns (.mvm/summaries.columns) once
  timed(process.execPath, [MVM, 'log', '--where', where], vdir);
  const vdirBase = baselineCopy(vdir, ['log', '-n', '1']);
  // a reference, not mvm: yargs (unbundled, as a package) parsing a line of one command, the
  // floor that a yargs CLI cannot go under
  const floor = join(dir, 'yargs-floor.mjs');
  writeFileSync(
    floor,
    [
      "import { createRequire } from 'node:module';",
      `const yargs = createRequire(${JSON.stringify(join(root, 'package.json'))})('yargs/yargs');`,
      "await yargs(process.argv.slice(2)).scriptName('mvm').command({ command: 'log', describe: 'x', builder: (y) " +
        "=> y.option('n', { type: 'number' }), handler: async () => {} }).strict().help().wrap(null).parseAsync();",
    ].join('\n'),
  );
  const v = measure(
    vdir,
    [
      { name: 'yargs floor', args: ['log', '-n', '10'], script: floor },
      { name: 'log -n 10', args: ['log', '-n', '10'] },
      { name: 'log --where', args: ['log', '--where', where] },
      { name: 'best', args: ['best', '--metric', 'accuracy'] },
    ],
    vdirBase ?? vdir,
  );
  judgeOf(v, 'log -n 10', `log -n 10 (${built.versions} versions)`, 0.05);
  judgeOf(
    v,
    'log --where',
    `log --where '${where}' (${built.versions} versions, ${built.expectedMatches} matches)`,
    0.06,
  );
  judgeOf(v, 'best', `best --metric accuracy (${built.versions} versions)`, 0.06);

  console.log('# mvm start-up benchmark');
  console.log(`- date: ${new Date().toUTCString()}`);
  console.log(
    `- machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; ` +
      `load average at end ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}`,
  );
  console.log(
    `- node ${process.version}; medians of ${reps} runs, each command interleaved with node -e "" (medians of ` +
      `node: ${ms(w.get('node'))} in the workspace run, ${ms(v.get('node'))} in the versions run)`,
  );
  const trace = spawnSync(LAUNCHER, ['--version'], { env: { ...env, MVM_LAUNCH_TRACE: '1' }, encoding: 'utf8' });
  console.log(`- the launcher starts: ${trace.stderr.trim().replace(/^mvm launcher: /, '')}`);
  console.log('');
  if (BASELINE) console.log(`baseline: ${BASELINE}, measured in the same loop\n`);
  console.log(
    `| command (bin/mvm, snapshot) | median | over node -e "" | bar | node bin/mvm.js (over node) |` +
      `${BASELINE ? ' baseline (over node) |' : ''}`,
  );
  console.log(`| --- | ---: | ---: | ---: | ---: |${BASELINE ? ' ---: |' : ''}`);
  for (const r of rows) console.log(r);
  console.log(
    `| reference, not mvm: yargs alone parsing \`log -n 10\` for one command | ${ms(v.get('yargs floor'))} | ` +
      `+${ms(v.get('yargs floor') - v.get('node'))} | | |${BASELINE ? ' |' : ''}`,
  );
  console.log('');
  for (const b of bars) console.log(b);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
