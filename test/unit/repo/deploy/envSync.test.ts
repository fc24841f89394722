import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Repository } from '../../../../src/repo/repository/repository.js';
import { FolderBackend } from '../../../../src/storage/remote/folder.js';
import { smallHistory } from '../../../helpers/history.js';
import { adoptEnvs, updateRemoteEnv, type EnvRemote } from '../../../../src/repo/deploy/envSync.js';
import { listRemoteEnvs, readRemoteEnv } from '../../../../src/repo/deploy/remoteEnvs.js';
import { deployLog, envCurrent } from '../../../../src/repo/history/deployments.js';
import type { RemoteSession } from '../../../../src/repo/transfer/remoteSession.js';
import { isMvmError } from '../../../../src/errors.js';

// An env's file on a remote moves by compare-and-swap: a move made from a view another clone has since changed is
// refused (ENV_MOVED, naming who moved it), and adopting the file makes this clone's pointer, log and settings follow.
let dir: string;
let repo: Repository;
let ids: string[];
let session: RemoteSession;

const entry = (from: string | null, to: string, who: string) => ({
  time: '2026-12-07T00:00:00.000Z',
  who,
  action: 'deploy' as const,
  from,
  to,
});

beforeEach(async () => {
  const h = await smallHistory('mvm-env-sync-', 3, { message: (n) => `v${n}`, text: (n) => `version ${n}` });
  ({ dir, repo, ids } = h);
  const root = join(dir, 'remote');
  mkdirSync(root);
  writeFileSync(join(root, 'mvm-remote.json'), '{"format":1}\n');
  const remote = { name: 'origin', url: root, shared: false };
  session = { remote, backend: new FolderBackend(root, root), exists: true } as RemoteSession;
});

afterEach(() => rmSync(dir, { recursive: true, force: true }));

const view = async (): Promise<EnvRemote> => ({
  s: session,
  envs: new Map((await listRemoteEnvs(session)).map((r) => [r.env, r])),
});

describe('envs on a remote', () => {
  it('a move from a stale view is ENV_MOVED naming the winner; the file keeps it and this clone follows', async () => {
    const mine = await view();
    const theirs = await view();
    await updateRemoteEnv(repo, theirs, 'production', (f) => ({
      ...f,
      log: [...f.log, entry(null, ids[1]!, 'Bob <bob@example.com>')],
    }));
    let err: unknown;
    try {
      await updateRemoteEnv(repo, mine, 'production', (f) => ({
        ...f,
        log: [...f.log, entry(null, ids[2]!, 'Ada <ada@example.com>')],
      }));
    } catch (e) {
      err = e;
    }
    expect(isMvmError(err, 'ENV_MOVED')).toBe(true);
    expect((err as Error).message).toContain('Bob <bob@example.com> moved it to v2');
    const now = await readRemoteEnv(session, 'production');
    expect(now!.file.log.map((e) => e.to)).toEqual([ids[1]]);
    expect(envCurrent(repo, 'production')).toBe(ids[1]);
    // settings changes re-read and re-apply instead (they do not depend on where the env points)
    const stale = await view();
    await updateRemoteEnv(repo, await view(), 'production', (f) => ({
      ...f,
      log: [...f.log, entry(ids[1]!, ids[0]!, 'Bob <bob@example.com>')],
    }));
    await updateRemoteEnv(
      repo,
      stale,
      'production',
      (f) => ({ ...f, settings: { require: ['metrics.f1 > 0'] } }),
      true,
    );
    const after = await readRemoteEnv(session, 'production');
    expect(after!.file.log.map((e) => e.to)).toEqual([ids[1], ids[0]]);
    expect(after!.file.settings).toEqual({ require: ['metrics.f1 > 0'] });
  });

  it("adopting sets aside this clone's moves the remote lacks and keeps its hooks, folder, signing rule", () => {
    repo.refs.appendLog('envs/qa', entry(null, ids[2]!, 'Here <here@example.com>'));
    repo.refs.write('refs/envs/qa', ids[2]!);
    writeFileSync(
      join(dir, '.mvm', 'envs.json'),
      JSON.stringify({
        qa: { hooks: ['echo hi'], requireSigned: true, export: { dir: '/srv', layout: 'triton', name: 'm' } },
      }),
    );
    const file = {
      format: 1 as const,
      settings: { require: ['metrics.acc > 0.5'], serving: { layout: 'tf-serving' as const, name: 'clf' } },
      log: [entry(null, ids[0]!, 'Bob <bob@example.com>')],
    };
    const r = adoptEnvs(repo, [{ env: 'qa', file, tag: 'x' }]);
    expect(r.changed).toEqual(['qa']);
    expect(envCurrent(repo, 'qa')).toBe(ids[0]);
    expect(deployLog(repo, 'qa').map((e) => e.to)).toEqual([ids[0]]);
    expect(repo.refs.readLog('envs-replaced/qa').map((e) => e.to)).toEqual([ids[2]]);
    expect(repo.refs.readLog('envs-replaced/qa')).toHaveLength(1);
    const config = JSON.parse(readFileSync(join(dir, '.mvm', 'envs.json'), 'utf8')).qa;
    expect(config).toEqual({
      require: ['metrics.acc > 0.5'],
      serving: { layout: 'tf-serving', name: 'clf' },
      requireSigned: true,
      hooks: ['echo hi'],
      export: { layout: 'tf-serving', name: 'clf', dir: '/srv' },
    });
    // a version not here yet is left for the fetch that brings it
    const missing = { ...file, log: [...file.log, entry(ids[0]!, 'f'.repeat(64), 'Bob <bob@example.com>')] };
    expect(adoptEnvs(repo, [{ env: 'qa', file: missing, tag: 'y' }]).missing).toEqual(['qa']);
    expect(envCurrent(repo, 'qa')).toBe(ids[0]);
  });
});
