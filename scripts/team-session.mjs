#!/usr/bin/env node
// The two-clone session of docs/DEPLOYING.md, run for real and printed verbatim: Ada and Bob share a folder
// remote, both retrain offline, both versions survive with one number each, production moves by compare-and-swap,
// and a serving host follows it. Usage: npm run build && node scripts/team-session.mjs [--keep]
// Everything lives under /tmp/team (removed first), so the paths in the output are the same on every run.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planModel, tuneTensors, writeModel } from '../bench/gen.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'mvm.js');
const base = '/tmp/team';
rmSync(base, { recursive: true, force: true });
const dirs = { ada: join(base, 'ada'), bob: join(base, 'bob'), host: join(base, 'host') };
for (const d of Object.values(dirs)) mkdirSync(d, { recursive: true });
const people = { ada: 'Ada <ada@example.com>', bob: 'Bob <bob@example.com>', host: 'Serving host <ops@example.com>' };
let who = '';

/** Runs mvm as `name` in `cwd` (relative to their folder), printing the command, its output and its exit code. */
function mvm(name, args, cwd = '.') {
  if (who !== name) console.log(`--- ${name}`);
  who = name;
  const shown = args.map((a) => (/[\s'"$>]/.test(a) ? `'${a}'` : a)).join(' ');
  console.log(`$ mvm ${shown}`);
  const env = { ...process.env, MVM_AUTHOR: people[name], NO_COLOR: '1', XDG_CACHE_HOME: join(base, 'cache') };
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: join(dirs[name], cwd), env, encoding: 'utf8' });
  process.stdout.write(r.stdout + r.stderr);
  console.log(`[exit ${r.status}]\n`);
  return r;
}

// Ada's first model: 4 MiB of bf16 tensors, made before the session starts
const tensors = planModel(4 << 20);
const model = (who) => join(dirs[who], 'model', 'models/model.safetensors');
mkdirSync(join(dirs.ada, 'model', 'models'), { recursive: true });
writeModel(model('ada'), tensors, { seedOf: (n) => n, metadata: { format: 'pt' } });
const tune = (who, seed) =>
  tuneTensors(
    model(who),
    tensors.filter((_, i) => i % 10 === 3).map((t) => t.name),
    { rel: 0.01, seed },
  );

console.log('```text');
mvm('ada', ['init'], 'model');
mvm('ada', ['add', 'models/'], 'model');
mvm('ada', ['commit', '-m', 'baseline', '--metric', 'accuracy=0.91'], 'model');
mvm('ada', ['remote', 'add', 'origin', join(base, 'remote')], 'model');
mvm(
  'ada',
  [
    'env',
    'production',
    '--create',
    '--require',
    'metrics.accuracy >= 0.9',
    '--export',
    join(base, 'ada-serving'),
    '--layout',
    'tf-serving',
    '--model',
    'clf',
  ],
  'model',
);
mvm('ada', ['push'], 'model');
mvm('ada', ['deploy', 'v1', '--env', 'production', '-m', 'first release'], 'model');
mvm('bob', ['clone', join(base, 'remote'), 'model']);
mvm('bob', ['env'], 'model');
// both retrain offline
tune('bob', 'bob');
mvm('bob', ['commit', '-m', 'bob: more data', '--metric', 'accuracy=0.94'], 'model');
tune('ada', 'ada');
mvm('ada', ['commit', '-m', 'ada: lr 3e-4', '--metric', 'accuracy=0.93'], 'model');
mvm('ada', ['log', '--oneline'], 'model');
mvm('bob', ['push'], 'model');
mvm('ada', ['push'], 'model');
mvm('ada', ['pull'], 'model');
mvm('ada', ['push'], 'model');
mvm('ada', ['log', '--oneline'], 'model');
mvm('ada', ['deploy', 'v3', '--env', 'prodution'], 'model');
mvm('bob', ['pull'], 'model');
mvm('bob', ['best', '--metric', 'accuracy', '--number'], 'model');
mvm('bob', ['deploy', 'v2', '--env', 'production', '-m', 'best accuracy'], 'model');
mvm('ada', ['deploy', 'v3', '--env', 'production', '-m', 'lower latency'], 'model');
mvm('ada', ['deploy', 'v3', '--env', 'production', '-m', 'lower latency'], 'model');
mvm('host', ['follow', join(base, 'remote'), '--env', 'production', '--export', join(base, 'models'), '--once']);
mvm('ada', ['fetch'], 'model');
mvm('ada', ['deployments', '--env', 'production'], 'model');
mvm('ada', ['rollback', '--env', 'production', '-m', 'latency regression'], 'model');
mvm('host', ['follow', join(base, 'remote'), '--env', 'production', '--export', join(base, 'models'), '--once']);
if (who !== 'host') console.log('--- host');
console.log(`$ ls ${join(base, 'models/clf')}`);
console.log(`${readdirSync(join(base, 'models/clf')).sort().join('\n')}\n[exit 0]`);
console.log('```');
if (!process.argv.includes('--keep')) rmSync(base, { recursive: true, force: true });
