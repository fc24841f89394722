import { describe, expect, it } from 'vitest';
import { deploymentStack, effectiveMoves, type DeployLogEntry } from '../../../../src/repo/history/deployments.js';

const V = (n: number) => String(n).repeat(64).slice(0, 64);
const move = (from: string | null, to: string, action: DeployLogEntry['action'] = 'deploy'): DeployLogEntry => ({
  time: 't',
  who: 'w',
  action,
  from,
  to,
});

describe('the deploy log as it took effect', () => {
  it('drops a move the ref never took, even when later moves follow it', () => {
    // v1 deployed; a deploy of v3 was logged but its ref write failed; then v2 was deployed
    const log = [move(null, V(1)), move(V(1), V(3)), move(V(1), V(2))];
    expect(effectiveMoves(log, V(2))).toEqual([log[0], log[2]]);
    expect(deploymentStack(effectiveMoves(log, V(2)))).toEqual([V(1), V(2)]);
  });

  it('keeps a whole chain; a trailing move the ref never took is dropped; nothing deployed keeps nothing', () => {
    const log = [move(null, V(1)), move(V(1), V(2)), move(V(2), V(1), 'rollback'), move(V(1), V(4))];
    expect(effectiveMoves(log, V(1))).toEqual(log.slice(0, 3));
    expect(effectiveMoves(log, V(4))).toEqual(log);
    expect(effectiveMoves(log, null)).toEqual([]);
    // a retried deploy after a failed one: the retry is the move that counts
    const retry = [move(null, V(1)), move(V(1), V(2)), move(V(1), V(2))];
    expect(effectiveMoves(retry, V(2))).toEqual([retry[0], retry[2]]);
  });
});
