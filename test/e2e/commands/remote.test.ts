import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { initDir, mvm, randomBytes, testdir } from '../../helpers/cli.js';
import { expectError, json, ok, write } from '../../helpers/assertions.js';
import { startS3, type LocalS3 } from '../../helpers/s3server.js';

// Remote settings that come with a cloned project (mvm-remotes.json) are
// used only once trusted in that clone; folder remotes may not sit inside the
// workspace, .git or .mvm; plain HTTP to another host needs consent; and a
// refused push writes nothing.
let s3: LocalS3;
beforeAll(async () => {
  s3 = await startS3(['trust-bucket']);
});
afterAll(async () => {
  await s3?.stop();
});

/** A project that shares its remote: a version pushed, mvm-remotes.json and mvm.lock beside it. */
function project(t: ReturnType<typeof testdir>, url: string, addArgs: string[], env: Record<string, string>) {
  const dir = t.path('proj');
  mkdirSync(join(dir, '.git'), { recursive: true });
  write(join(dir, 'models/w.bin'), randomBytes(50_000, 5));
  const run = (args: string[]) => mvm(args, { cwd: dir, env });
  ok(run(['init']));
  ok(run(['add', 'models']));
  ok(run(['commit', '-m', 'v1']));
  ok(run(['remote', 'add', 'origin', url, ...addArgs, '--shared']));
  ok(run(['push']));
  return { dir, run };
}

/** What `git clone` of the project gives: its shared files and no store. */
function gitClone(t: ReturnType<typeof testdir>, from: string, name: string, env: Record<string, string>) {
  const dir = t.path(name);
  mkdirSync(join(dir, '.git'), { recursive: true });
  for (const f of ['mvm-remotes.json', 'mvm.lock'])
    if (existsSync(join(from, f))) copyFileSync(join(from, f), join(dir, f));
  return { dir, run: (args: string[]) => mvm(args, { cwd: dir, env }) };
}

const setShared = (dir: string, spec: Record<string, unknown>) =>
  writeFileSync(join(dir, 'mvm-remotes.json'), JSON.stringify({ remotes: { origin: spec } }));

describe('shared remote settings need trust', () => {
  it(
    'S3: an untrusted endpoint gets no request; trust shows it and records it; a changed file needs trust again; ' +
      'plain HTTP elsewhere needs consent',
    () => {
      const t = testdir();
      try {
        const url = `s3://trust-bucket/p${process.pid}`;
        const p = project(t, url, ['--endpoint', s3.endpoint], s3.env);
        const c = gitClone(t, p.dir, 'mate', s3.env);
        // nothing is sent (pulling would succeed against s3rver): refused before any request
        const err = expectError(c.run(['pull', '--json']), 'REMOTE_UNTRUSTED', 10);
        expect(err.data).toMatchObject({ remote: 'origin', url, endpoint: s3.endpoint });
        expect(err.message).toContain(s3.endpoint);
        expect(err.data.hint).toContain('mvm remote trust origin');
        expect(existsSync(join(c.dir, '.mvm'))).toBe(false);
        const trusted = json(c.run(['remote', 'trust', 'origin', '--json']));
        expect(trusted).toMatchObject({
          remote: { name: 'origin', url, endpoint: s3.endpoint, shared: true },
          allowHttp: false,
          created: true,
        });
        expect(json(c.run(['remote', '--json']))).toEqual([
          expect.objectContaining({ name: 'origin', trust: 'trusted' }),
        ]);
        const pulled = json(c.run(['pull', '--json']));
        expect(readFileSync(join(c.dir, 'models/w.bin')).equals(randomBytes(50_000, 5))).toBe(true);
        expect(pulled.number).toBe(1);
        // the project file changes (a git pull): an endpoint that listens nowhere would be REMOTE_UNREACHABLE if it
        // were
        // tried
        setShared(c.dir, { url, endpoint: 'http://127.0.0.1:9' });
        expect(json(c.run(['remote', '--json']))[0].trust).toBe('changed');
        expectError(c.run(['fetch', '--json']), 'REMOTE_UNTRUSTED', 10);
        expectError(c.run(['push', '--json']), 'REMOTE_UNTRUSTED', 10);
        // plain HTTP to another host: trust alone is not enough, --allow-http is the consent (recorded)
        setShared(c.dir, { url, endpoint: 'http://10.255.255.1:9000' });
        expectError(c.run(['remote', 'trust', 'origin', '--json']), 'REMOTE_UNTRUSTED', 10);
        expect(json(c.run(['remote', 'trust', 'origin', '--allow-http', '--json'])).allowHttp).toBe(true);
        expect(
          JSON.parse(readFileSync(join(c.dir, '.mvm/trusted-remotes.json'), 'utf8')).trusted.origin.allowHttp,
        ).toBe(true);
        // the shared file cannot grant the consent itself
        setShared(c.dir, { url, endpoint: 'http://10.255.255.2:9000', allowHttp: true });
        expectError(c.run(['remote', 'trust', 'origin', '--json']), 'REMOTE_UNTRUSTED', 10);
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'folder: a shared folder remote is used only once trusted; one inside the workspace, .git or .mvm is refused ' +
      'at trust and at use',
    () => {
      const t = testdir();
      try {
        const remote = t.path('remote');
        const p = project(t, remote, [], {});
        const c = gitClone(t, p.dir, 'mate', {});
        expectError(c.run(['pull', '--json']), 'REMOTE_UNTRUSTED', 10);
        ok(c.run(['remote', 'trust']));
        expect(json(c.run(['pull', '--json'])).number).toBe(1);
        // a hostile project file points the remote into the clone's own .git, .mvm, or workspace
        for (const bad of [
          join(c.dir, '.git'),
          join(c.dir, '.mvm'),
          join(c.dir, 'models'),
          t.path('elsewhere/.git/x'),
        ]) {
          setShared(c.dir, { url: bad });
          expectError(c.run(['remote', 'trust', 'origin', '--json']), 'BAD_VALUE', 2);
          expectError(c.run(['push', '--json']), 'REMOTE_UNTRUSTED', 10);
        }
        // hand-edited local settings are checked at use too
        setShared(c.dir, { url: remote });
        writeFileSync(
          join(c.dir, '.mvm/remotes.json'),
          JSON.stringify({ remotes: { inside: { url: join(c.dir, '.git') } } }),
        );
        expectError(c.run(['push', 'inside', '--json']), 'BAD_VALUE', 2);
        expect(readdirSync(join(c.dir, '.git'))).toEqual([]);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('remote add', () => {
  it(
    'refuses a folder inside the workspace, .git or .mvm, and plain HTTP to another host without --allow-http ' +
      '(recorded)',
    () => {
      const { t, run } = initDir({ 'm.bin': 'x' });
      try {
        expectError(run(['remote', 'add', 'a', 'inside', '--json']), 'BAD_VALUE', 2);
        expectError(run(['remote', 'add', 'b', '.mvm/objects', '--json']), 'BAD_VALUE', 2);
        expectError(run(['remote', 'add', 'c', '../other/.git', '--json']), 'BAD_VALUE', 2);
        expectError(
          run(['remote', 'add', 'd', 's3://bucket-x/p', '--endpoint', 'http://10.1.2.3:9000', '--json']),
          'REMOTE_UNTRUSTED',
          10,
        );
        expectError(
          run([
            'remote',
            'add',
            'd',
            's3://bucket-x/p',
            '--endpoint',
            'http://minio.internal:9000',
            '--shared',
            '--json',
          ]),
          'REMOTE_UNTRUSTED',
          10,
        );
        expect(existsSync(t.path('mvm-remotes.json'))).toBe(false);
        ok(run(['remote', 'add', 'd', 's3://bucket-x/p', '--endpoint', 'http://10.1.2.3:9000', '--allow-http']));
        ok(run(['remote', 'add', 'e', 's3://bucket-x/p', '--endpoint', 'https://minio.internal:9000']));
        ok(run(['remote', 'add', 'f', 's3://bucket-x/p', '--endpoint', 'http://localhost:9000']));
        expect(JSON.parse(readFileSync(t.path('.mvm/remotes.json'), 'utf8')).remotes.d).toEqual({
          url: 's3://bucket-x/p',
          endpoint: 'http://10.1.2.3:9000',
          allowHttp: true,
        });
        // who shares a remote trusts it in their own clone
        ok(run(['remote', 'add', 'g', '../shared', '--shared']));
        expect(json(run(['remote', '--json'])).find((r: { name: string }) => r.name === 'g').trust).toBe('trusted');
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('a refused push writes nothing', () => {
  it(
    'to a .git folder (settings edited by hand), or to a folder holding other files: no mvm-remote.json, no ' + '.tmp',
    () => {
      const { t, run } = initDir({ 'm.bin': 'x' });
      try {
        ok(run(['add', 'm.bin']));
        ok(run(['commit', '-m', 'one']));
        const gitDir = join(t.dir, '..', `${t.dir.split('/').pop()}-other`, '.git');
        const foreign = join(t.dir, '..', `${t.dir.split('/').pop()}-foreign`);
        try {
          mkdirSync(join(gitDir, 'refs', 'heads'), { recursive: true });
          writeFileSync(join(gitDir, 'HEAD'), 'ref: refs/heads/main\n');
          mkdirSync(foreign, { recursive: true });
          writeFileSync(join(foreign, 'notes.txt'), 'mine\n');
          writeFileSync(
            t.path('.mvm/remotes.json'),
            JSON.stringify({ remotes: { git: { url: gitDir }, foreign: { url: foreign } } }),
          );
          expectError(run(['push', 'git', '--json']), 'BAD_VALUE', 2);
          expect(readdirSync(gitDir).sort()).toEqual(['HEAD', 'refs']);
          expectError(run(['push', 'foreign', '--json']), 'BAD_VALUE', 2);
          expect(readdirSync(foreign)).toEqual(['notes.txt']);
        } finally {
          const { rmSync } = require('node:fs') as typeof import('node:fs');
          rmSync(join(gitDir, '..'), { recursive: true, force: true });
          rmSync(foreign, { recursive: true, force: true });
        }
      } finally {
        t.cleanup();
      }
    },
  );
});
