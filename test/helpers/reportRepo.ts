/**
 * The repository the `mvm report` tests run against: a small safetensors
 * model (six f32 tensors over three layers), a dataset, two branches, a
 * fine-tune and two environments.
 *
 *   main:        v1 -- v2 -- v4 -- v5      (v4 fine-tuned from v2; v5 changes layers.0.mlp)
 *                        \
 *   experiment:           v3
 *
 *   deployed (default env): v2, then v4;  staging: v4
 */
import { execFileSync } from 'node:child_process';
import { mvm, mvmAsync, testdir } from './cli.js';
import { ok, json, write } from './assertions.js';
import { TRANSFORMER_TENSORS, prng, writeSafetensors } from './modelWriters.js';

const N = 64 * 64;

/** Normal-ish f32 weights from a seed. */
function weights(seed: number): Float32Array {
  const r = prng(seed);
  const out = new Float32Array(N);
  for (let i = 0; i < N; i++) out[i] = (r() + r() + r() - 1.5) * 0.05;
  return out;
}

/** The same weights with relative noise `scale` added. */
function nudged(w: Float32Array, scale: number, seed: number): Float32Array {
  const r = prng(seed);
  return w.map((x) => x + (r() - 0.5) * 2 * scale * 0.05);
}

function model(ws: Float32Array[]): Buffer {
  return writeSafetensors(
    TRANSFORMER_TENSORS.map((name, i) => ({ name, dtype: 'F32', shape: [64, 64], data: Buffer.from(ws[i]!.buffer) })),
    { framework: 'test' },
  );
}

/** What the fixture built: the folder, its version ids (index = number) and a runner. */
export interface ReportRepo {
  dir: string;
  ids: string[];
  run: (args: string[]) => ReturnType<typeof mvm>;
  cleanup: () => void;
}

/** Builds the fixture repository (about two seconds of CLI runs). */
export function makeReportRepo(opts: { message5?: string } = {}): ReportRepo {
  const t = testdir();
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  execFileSync('git', ['init', '-q'], { cwd: t.dir });
  // one git commit: every version records it, so the lineage has a git node
  const git = {
    ...process.env,
    GIT_AUTHOR_NAME: 'T',
    GIT_AUTHOR_EMAIL: 't@example.com',
    GIT_COMMITTER_NAME: 'T',
    GIT_COMMITTER_EMAIL: 't@example.com',
    GIT_CONFIG_NOSYSTEM: '1',
  };
  execFileSync('git', ['commit', '-q', '--allow-empty', '-m', 'code'], { cwd: t.dir, env: git });
  ok(run(['init']));
  const ws = TRANSFORMER_TENSORS.map((_, i) => weights(10 + i));
  write(t.path('model.safetensors'), model(ws));
  write(t.path('data/train.txt'), 'a,b\n1,2\n');
  ok(run(['add', 'model.safetensors']));
  const ids: string[] = [''];
  /** Commits with a message, accuracy and loss metrics and a learning rate, then any `more` arguments. */
  const commit = (message: string, accuracy: string, loss: string, lr: string, ...more: string[]) => {
    const metrics = ['--metric', `accuracy=${accuracy}`, '--metric', `loss=${loss}`, '--param', `lr=${lr}`];
    const r = json<{ id: string }>(run(['commit', '--json', '-m', message, ...metrics, ...more]));
    ids.push(r.id);
  };
  commit('baseline', '0.80', '0.9', '0.001', '--data', 'data/train.txt');
  ws[3] = nudged(ws[3]!, 0.1, 1);
  ws[4] = nudged(ws[4]!, 0.1, 2);
  write(t.path('model.safetensors'), model(ws));
  commit('tune layer 1', '0.84', '0.7', '0.001', '--data', 'data/train.txt');
  ok(run(['deploy', 'v2']));
  ok(run(['branch', 'experiment']));
  ok(run(['checkout', 'experiment']));
  const wx = ws.map((w, i) => (i === 5 ? nudged(w, 0.5, 3) : w));
  write(t.path('model.safetensors'), model(wx));
  commit('try a larger lr', '0.83', '0.75', '0.01');
  ok(run(['checkout', 'main']));
  ws[1] = nudged(ws[1]!, 0.05, 4);
  write(t.path('model.safetensors'), model(ws));
  commit('fine-tune', '0.88', '0.5', '0.0005', '--base', 'v2', '--data', 'data/train.txt');
  ok(run(['deploy', 'v4']));
  ok(run(['env', 'staging', '--create']));
  ok(run(['deploy', 'v4', '--env', 'staging']));
  ws[2] = nudged(ws[2]!, 0.2, 5);
  write(t.path('model.safetensors'), model(ws));
  commit(opts.message5 ?? 'tune the first mlp', '0.9', '0.45', '0.0005');
  return { dir: t.dir, ids, run, cleanup: t.cleanup };
}

/** Starts `mvm report --serve --port 0 --no-pair` in `dir`; resolves with the URL it prints once it listens. */
export async function startServe(
  dir: string,
): Promise<{ url: string; child: ReturnType<typeof mvmAsync>['child']; done: ReturnType<typeof mvmAsync>['done'] }> {
  const { child, done } = mvmAsync(['report', '--serve', '--port', '0', '--no-pair'], { cwd: dir });
  const url = await new Promise<string>((res, rej) => {
    let out = '';
    child.stdout!.on('data', (b) => {
      out += b;
      const m = /serving the report on (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
      if (m) res(m[1]!);
    });
    child.on('close', () => rej(new Error(`report --serve ended: ${out}`)));
  });
  return { url, child, done };
}
