// Deploy-to-served latency through `mvm follow` (the remotes section): a follower process on the same machine
// watches an env of the remote; a deploy moves the env, and the clock stops when the follower reports the version
// served (its folder renamed into place). Measured for a deploy of v2 (its chunks fetched and exported) and a
// rollback to v1 (its folder is there; the one above it goes).
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { MVM } from './setup.mjs';

/**
 * Starts a follower of `url` (extra remote flags in `add`) at `interval` seconds, deploys v1, then times a deploy of
 * v2 and a rollback from the deploy's start to the follower's line saying it serves the version.
 */
export async function followLatency({ ws, base, url, add, env, mvm, interval }) {
  const served = join(base, `served-${Math.random().toString(16).slice(2, 8)}`);
  mvm(ws, 'env', 'production', '--create');
  mvm(ws, 'deploy', 'v1', '--env', 'production');
  const child = spawn(
    MVM,
    [
      'follow',
      url,
      ...add,
      '--env',
      'production',
      '--export',
      served,
      '--layout',
      'tf-serving',
      '--name',
      'm',
      '--interval',
      String(interval),
      '--state',
      join(base, `follow-state-${Math.random().toString(16).slice(2, 8)}`),
      '--json',
    ],
    { env, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines = [];
  const waiters = [];
  let buf = '';
  child.stdout.on('data', (d) => {
    buf += d;
    for (let nl = buf.indexOf('\n'); nl >= 0; nl = buf.indexOf('\n')) {
      const step = JSON.parse(buf.slice(0, nl));
      buf = buf.slice(nl + 1);
      lines.push({ at: process.hrtime.bigint(), step });
      for (const w of waiters.splice(0)) w();
    }
  });
  const until = async (test, what) => {
    const t0 = Date.now();
    for (;;) {
      const hit = lines.find((l) => test(l.step));
      if (hit) return hit;
      if (Date.now() - t0 > 600_000) throw new Error(`the follower did not report ${what}`);
      await new Promise((r) => {
        waiters.push(r);
        setTimeout(r, 1000);
      });
    }
  };
  try {
    await until((s) => s.outcome === 'exported' && s.number === 1, 'v1');
    const time = async (args, number) => {
      const t0 = process.hrtime.bigint();
      const moved = mvm(ws, ...args);
      const hit = await until((s) => s.outcome === 'exported' && s.number === number, `v${number}`);
      return { moveS: moved.wall, servedS: Number(hit.at - t0) / 1e9, bytes: hit.step.bytes };
    };
    lines.length = 0;
    const deploy = await time(['deploy', 'v2', '--env', 'production'], 2);
    lines.length = 0;
    const rollback = await time(['rollback', '--env', 'production'], 1);
    return { interval, deploy, rollback };
  } finally {
    child.kill('SIGTERM');
  }
}
