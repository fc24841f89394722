// Push and pull of a fine-tune (the remotes section): a generated bf16 model (64 MiB unless --finetune-mib says
// otherwise) and the same model with every tenth tensor fine-tuned by 10% of its spread (w += N(0, (0.1 x 0.02)^2)),
// committed as v1 and v2. Times the commit of v2 and records what it stored, then the push of v2 and its pull into a
// clone at v1 (a partial store, and a full one), each against the commit: bytes moved and wall time.
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { planModel, tuneTensors, writeModel } from '../gen.mjs';

/**
 * Runs the fine-tune push and pull against `url` (extra remote flags in `add`) in a folder of its own under `base`;
 * `mvmJson(cwd, ...args)` runs mvm with --json and returns { wall, rssKB, json }. Returns what each step moved.
 */
export function fineTuneTransfer({ base, url, add, mvmJson, mvm, syncDisk, sizeBytes, tag }) {
  const dir = join(base, `finetune-${tag}`);
  mkdirSync(dir, { recursive: true });
  try {
    const tensors = planModel(sizeBytes);
    const A = join(dir, 'A.safetensors');
    writeModel(A, tensors, { seedOf: (n) => `ft:${n}` });
    const F = join(dir, 'F.safetensors');
    copyFileSync(A, F);
    const names = tensors.filter((_, k) => k % 10 === 3).map((t) => t.name);
    const changed = tuneTensors(F, names, { rel: 0.1, seed: 'ft' });
    const ws = join(dir, 'ws');
    mkdirSync(ws);
    copyFileSync(A, join(ws, 'model.safetensors'));
    mvm(ws, 'init', '-q');
    mvm(ws, 'add', 'model.safetensors');
    mvm(ws, 'commit', '-m', 'v1');
    mvm(ws, 'remote', 'add', 'origin', url, ...add);
    mvm(ws, 'push');
    mvm(dir, 'clone', url, 'partial', ...add);
    mvm(dir, 'clone', url, 'full', '--full', ...add);
    copyFileSync(F, join(ws, 'model.safetensors'));
    syncDisk();
    const commit = mvmJson(ws, 'commit', '-m', 'v2: 10% fine-tune');
    syncDisk();
    const push = mvmJson(ws, 'push');
    syncDisk();
    const pull = mvmJson(join(dir, 'partial'), 'pull');
    syncDisk();
    const pullFull = mvmJson(join(dir, 'full'), 'pull');
    const step = (r, bytes) => ({ s: r.wall, bytes, requests: r.json.requests, rssKB: r.rssKB });
    return {
      changedBytes: changed,
      commit: { s: commit.wall, stored: commit.json.storedBytes, rssKB: commit.rssKB },
      push: step(push, push.json.bytes),
      pull: step(pull, pull.json.fetched.bytes),
      pullFull: step(pullFull, pullFull.json.fetched.bytes),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
