// remote add / list / remove, and what can go wrong with an S3 remote before any byte moves.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { initDir, mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';
import { s3, startRemoteS3, stopRemoteS3 } from '../../helpers/remotes.js';

beforeAll(startRemoteS3);
afterAll(stopRemoteS3);

describe('remotes on a folder', () => {
  it(
    'remote add / list / remove; --shared writes mvm-remotes.json at the workspace root; names and URLs are ' +
      'checked',
    () => {
      const { t, run } = initDir({ 'm.bin': 'x' });
      try {
        ok(
          run(['remote', 'add', 'origin', 's3://models-bucket/team-a', '--endpoint', 'http://127.0.0.1:9', '--shared']),
        );
        ok(run(['remote', 'add', 'backup', '../shared-folder']));
        expect(JSON.parse(readFileSync(t.path('mvm-remotes.json'), 'utf8'))).toEqual({
          remotes: { origin: { url: 's3://models-bucket/team-a', endpoint: 'http://127.0.0.1:9' } },
        });
        const list = json(run(['remote', '--json']));
        expect(list.map((r: { name: string; shared: boolean; url: string }) => [r.name, r.shared, r.url])).toEqual([
          ['backup', false, join(dirname(t.dir), 'shared-folder')],
          ['origin', true, 's3://models-bucket/team-a'],
        ]);
        expectError(run(['remote', 'add', 'origin', '/x', '--json']), 'REMOTE_EXISTS', 1);
        expectError(run(['remote', 'add', 'bad/name', '/x', '--json']), 'BAD_VALUE', 2);
        expectError(run(['remote', 'add', 'creds', 's3://AKIA:secret@models-bucket/x', '--json']), 'BAD_VALUE', 2);
        expect(run(['remote', 'add', 'creds', 's3://AKIA:secret@models-bucket/x']).stderr).not.toContain('secret');
        ok(run(['remote', 'remove', 'origin']));
        expect(JSON.parse(readFileSync(t.path('mvm-remotes.json'), 'utf8'))).toEqual({ remotes: {} });
        expectError(run(['push', 'origin', '--json']), 'UNKNOWN_REMOTE', 4);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('remotes on S3: what can go wrong before any byte moves', () => {
  const setup = () => {
    const t = testdir({ 'm.bin': 'x' });
    ok(mvm(['init'], { cwd: t.dir }));
    ok(mvm(['add', 'm.bin'], { cwd: t.dir }));
    ok(mvm(['commit', '-m', 'one'], { cwd: t.dir }));
    return t;
  };
  // no credentials anywhere: no keys in the environment, no ~/.aws
  const noCreds = (home: string) => ({
    AWS_ACCESS_KEY_ID: '',
    AWS_SECRET_ACCESS_KEY: '',
    AWS_PROFILE: '',
    HOME: home,
    AWS_CONFIG_FILE: join(home, 'none'),
    AWS_SHARED_CREDENTIALS_FILE: join(home, 'none'),
    AWS_EC2_METADATA_DISABLED: 'true',
    AWS_REGION: 'us-east-1',
  });

  it('missing credentials: REMOTE_AUTH (exit 10) with a hint naming the variables; no credential is stored', () => {
    const t = setup();
    try {
      ok(mvm(['remote', 'add', 'origin', 's3://models-bucket/auth', '--endpoint', s3.endpoint], { cwd: t.dir }));
      const r = mvm(['push', '--json'], { cwd: t.dir, env: noCreds(t.dir) });
      const err = expectError(r, 'REMOTE_AUTH', 10);
      expect(err.data.hint).toContain('AWS_ACCESS_KEY_ID');
      expect(readFileSync(t.path('.mvm/remotes.json'), 'utf8')).not.toContain('AWS');
    } finally {
      t.cleanup();
    }
  });

  it(
    'an unreachable endpoint is REMOTE_UNREACHABLE and a missing bucket REMOTE_NOT_FOUND (exit 10); nothing ' +
      'changes locally',
    () => {
      const t = setup();
      try {
        ok(mvm(['remote', 'add', 'down', 's3://models-bucket/x', '--endpoint', 'http://127.0.0.1:9'], { cwd: t.dir }));
        ok(mvm(['remote', 'add', 'nobucket', 's3://no-such-bucket/x', '--endpoint', s3.endpoint], { cwd: t.dir }));
        expectError(mvm(['push', 'down', '--json'], { cwd: t.dir, env: s3.env }), 'REMOTE_UNREACHABLE', 10);
        expectError(mvm(['fetch', 'nobucket', '--json'], { cwd: t.dir, env: s3.env }), 'REMOTE_NOT_FOUND', 10);
        expect(existsSync(t.path('.mvm/refs/remotes'))).toBe(false);
        expect(json(mvm(['fsck', '--json'], { cwd: t.dir })).ok).toBe(true);
      } finally {
        t.cleanup();
      }
    },
  );
});
