#!/usr/bin/env node
// Builds a sample history (two branches, a fine-tune, two envs, git commits),
// writes `mvm report` for it, and saves a screenshot of the page in Debian's
// chromium to docs/report.png. Usage: npm run report:screenshot
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const bin = join(root, 'bin', 'mvm.js');
const dir = mkdtempSync(join(tmpdir(), 'mvm-report-'));
const env = {
  ...process.env,
  MVM_AUTHOR: 'Demo User <demo@example.com>',
  GIT_AUTHOR_NAME: 'Demo',
  GIT_AUTHOR_EMAIL: 'demo@example.com',
  GIT_COMMITTER_NAME: 'Demo',
  GIT_COMMITTER_EMAIL: 'demo@example.com',
};
const mvm = (...args) => {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, env, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mvm ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};
const git = (...args) => execFileSync('git', args, { cwd: dir, env, stdio: 'ignore' });

// a small f32 model: 8 layers of attention and mlp weights, seeded
let state = 12345;
const rand = () => (state = (Math.imul(state, 1103515245) + 12345) >>> 0) / 4294967296;
const names = [
  'embed.weight',
  ...Array.from({ length: 8 }, (_, i) => [`layers.${i}.attn.weight`, `layers.${i}.mlp.weight`]).flat(),
  'head.weight',
];
const weights = names.map(() =>
  Float32Array.from({ length: 128 * 128 }, () => (rand() + rand() + rand() - 1.5) * 0.05),
);
const nudge = (i, scale) => (weights[i] = weights[i].map((x) => x + (rand() - 0.5) * 2 * scale * 0.05));
function save(ws = weights) {
  const header = {};
  let off = 0;
  names.forEach((n, i) => {
    header[n] = { dtype: 'F32', shape: [128, 128], data_offsets: [off, off + ws[i].byteLength] };
    off += ws[i].byteLength;
  });
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  writeFileSync(
    join(dir, 'model.safetensors'),
    Buffer.concat([len, Buffer.from(json), ...ws.map((w) => Buffer.from(w.buffer))]),
  );
}
function commit(message, acc, loss, lr, extra = []) {
  git('add', '-A');
  git('commit', '-q', '--allow-empty', '-m', message);
  mvm(
    'commit',
    '-m',
    message,
    '--metric',
    `accuracy=${acc}`,
    '--metric',
    `loss=${loss}`,
    '--param',
    `lr=${lr}`,
    ...extra,
  );
}

try {
  git('init', '-q', '-b', 'main');
  writeFileSync(join(dir, 'train.py'), '# training script\n');
  writeFileSync(join(dir, 'train.csv'), 'x,y\n1,2\n');
  mvm('init');
  save();
  mvm('add', 'model.safetensors');
  commit('baseline', 0.71, 1.2, 0.001, ['--data', 'train.csv']);
  [
    [3, 0.2, 0.78, 0.92],
    [5, 0.15, 0.82, 0.74],
    [7, 0.1, 0.85, 0.61],
  ].forEach(([layer, s, acc, loss], k) => {
    nudge(layer, s);
    nudge(layer + 1, s / 2);
    save();
    commit(`epoch ${k + 2}`, acc, loss, 0.001, ['--data', 'train.csv']);
  });
  mvm('deploy', 'v4', '-m', 'first release');
  mvm('branch', 'wide-lr');
  mvm('checkout', 'wide-lr');
  nudge(9, 0.4);
  nudge(10, 0.4);
  save();
  commit('try lr 1e-2', 0.83, 0.66, 0.01);
  nudge(11, 0.3);
  save();
  commit('lr 1e-2, warmup', 0.86, 0.58, 0.01);
  mvm('checkout', 'main');
  nudge(1, 0.05);
  nudge(2, 0.08);
  save();
  commit('fine-tune on new data', 0.88, 0.52, 0.0005, ['--base', 'v4', '--data', 'train.csv']);
  mvm('env', 'staging', '--create');
  mvm('deploy', 'v7', '--env', 'staging');
  nudge(2, 0.12);
  nudge(15, 0.04);
  nudge(16, 0.02);
  save();
  commit('fine-tune, two more epochs', 0.9, 0.47, 0.0005, ['--base', 'v4']);
  mvm('deploy', 'v8', '--env', 'staging');
  mvm('deploy', 'v7', '-m', 'promote the first fine-tune');
  console.log(mvm('report', '-o', 'report.html', '--title', 'mvm report: a sample history').trim());

  const browser = await chromium.launch({
    executablePath: process.env.MVM_CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  await page.goto(`file://${join(dir, 'report.html')}`);
  await page.waitForFunction(() => window.mvmReport?.ready === true);
  await page.screenshot({ path: join(root, 'docs', 'report.png'), fullPage: true });
  await browser.close();
  console.log('wrote docs/report.png');
} finally {
  rmSync(dir, { recursive: true, force: true });
}
