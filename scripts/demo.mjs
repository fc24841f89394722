#!/usr/bin/env node
// A scripted mvm session on a generated sample model, printed as it runs.
// Usage: npm run demo   (builds first; leaves nothing behind unless --keep)
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { planModel, writeModel } from '../bench/gen.mjs';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
// the launcher npm installs as `mvm` (it starts from the start-up snapshot that npm run build made)
const bin = join(root, 'bin', 'mvm');
const keep = process.argv.includes('--keep');
const dir = mkdtempSync(join(tmpdir(), 'mvm-demo-'));
const env = { ...process.env, MVM_AUTHOR: 'Demo User <demo@example.com>' };
let failed = false;

function sh(cmd, args, { show = true, allowFail = false } = {}) {
  const shown = cmd === bin ? ['mvm', ...args] : [cmd, ...args];
  if (show) console.log(`\n$ ${shown.map((a) => (/[\s'"$]/.test(a) ? `'${a}'` : a)).join(' ')}`);
  const r = spawnSync(cmd, args, { cwd: dir, env, encoding: 'utf8' });
  if (show) process.stdout.write(r.stdout + (r.stderr ? r.stderr : ''));
  if (r.status !== 0 && !allowFail) {
    failed = true;
    console.error(`(exit ${r.status})`);
  }
  return r;
}
const mvm = (...args) => sh(bin, args);
const sha = (p) =>
  createHash('sha256')
    .update(readFileSync(join(dir, p)))
    .digest('hex')
    .slice(0, 16);

try {
  console.log(`Demo repository: ${dir}`);
  sh('git', ['init', '-q'], { show: false });
  sh('git', ['config', 'user.email', 'demo@example.com'], { show: false });
  sh('git', ['config', 'user.name', 'Demo User'], { show: false });
  mkdirSync(join(dir, 'models'));
  const tensors = planModel(48 << 20);
  const seed = (n) => n;
  writeModel(join(dir, 'models/model.safetensors'), tensors, { seedOf: seed, metadata: { format: 'pt' } });
  writeFileSync(
    join(dir, 'models/config.json'),
    JSON.stringify({ hidden_size: 1024, layers: tensors.length / 9 }, null, 2),
  );
  console.log(`Generated models/model.safetensors (${tensors.length} bf16 tensors, N(0, 0.02)) and models/config.json`);
  const v1sha = sha('models/model.safetensors');

  mvm('init');
  mvm('add', 'models/');
  mvm(
    'commit',
    '-m',
    'baseline',
    '--meta',
    'dataset=imagenet-2024',
    '--param',
    'lr=1e-3',
    '--metric',
    'accuracy=0.91',
    '--metric',
    'loss=0.42',
  );
  mvm('status');

  console.log('\n# retrain: rewrite every 10th tensor and change the metadata (the header grows, shifting all data)');
  const changed = new Set(tensors.filter((_, i) => i % 10 === 3).map((t) => t.name));
  writeModel(join(dir, 'models/model.safetensors'), tensors, {
    seedOf: (n) => (changed.has(n) ? `${n}#2` : n),
    metadata: { format: 'pt', note: 'fine-tuned with lr 3e-4' },
  });
  mvm('status');
  mvm(
    'commit',
    '-m',
    'lr 3e-4',
    '--param',
    'lr=3e-4',
    '--metric',
    'accuracy=0.93',
    '--metric',
    'loss=0.37',
    '--base',
    'v1',
  );
  mvm('log');
  mvm('diff', 'v1', 'v2');
  mvm('diff', '--stats', 'v1', 'v2');
  mvm('compare', 'v1', 'v2');
  mvm('log', '--oneline', '--where', 'metrics.accuracy > 0.92 and params.lr < 0.001');
  mvm('annotate', 'v1', '--metric', 'f1=0.88', '--note', 'late evaluation on test-2026');
  const best = mvm('best', '--metric', 'accuracy', '--number');
  mvm('deploy', best.stdout.trim(), '-m', 'best accuracy');
  mvm('deploy', 'v1', '-m', 'canary');
  mvm('rollback');
  mvm('deploy');
  mvm('checkout', 'v1');
  const back = sha('models/model.safetensors');
  console.log(
    `\nsha256 of the model after checkout v1: ${back} (committed: ${v1sha}) -> ` +
      `${back === v1sha ? 'identical' : 'DIFFERENT'}`,
  );
  if (back !== v1sha) failed = true;
  mvm('checkout', 'main');
  mvm('lineage', 'v2');
  mvm('report', '-o', 'report.html');
  mvm('fsck');
  sh('du', ['-sh', '.mvm/objects', 'models']);
} finally {
  if (keep) console.log(`\nkept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
if (failed) {
  console.error('\ndemo: a step failed');
  process.exit(1);
}
console.log('\ndemo: all steps succeeded');
