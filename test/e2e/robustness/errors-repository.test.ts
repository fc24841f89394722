/**
 * Every error mvm raises on purpose, through the real CLI (repository and revision errors): the stable `code` and
 * documented exit code (src/errors.ts), the `{"error":{...}}` document on stdout with --json, one `mvm: ` line on
 * stderr, and that a failed command leaves the repository as it was.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { mvm, randomBytes } from '../../helpers/cli.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import { write } from '../../helpers/assertions.js';
import { expectError, json, ok, repo, snapshot, tmp, useErrorRepos } from '../../helpers/errorRepo.js';
import { corruptStored, storedIds } from '../../helpers/storedObjects.js';

useErrorRepos();

describe('repository errors', () => {
  it('NOT_A_REPOSITORY (exit 3) outside any repository', () => {
    const t = tmp();
    for (const cmd of [['status'], ['log'], ['commit', '-m', 'x']]) {
      const r = mvm([...cmd, '--json'], { cwd: t.dir });
      const e = expectError(r, 'NOT_A_REPOSITORY');
      expect(e.data.path).toBe(t.dir);
    }
    // without --json: nothing on stdout, one line on stderr
    const plain = mvm(['status'], { cwd: t.dir });
    expect(plain.exitCode).toBe(3);
    expect(plain.stdout).toBe('');
    expect(plain.stderr).toMatch(/^mvm: [^\n]+\n$/);
    expect(readdirSync(t.dir)).toEqual([]);
  });

  it('ALREADY_A_REPOSITORY (exit 3) on a second init, which changes nothing', () => {
    const r = repo();
    const config = readFileSync(r.path('.mvm/config.json'), 'utf8');
    const before = snapshot(r);
    expectError(r.run(['init', '--chunk-size', '8192', '--json']), 'ALREADY_A_REPOSITORY');
    expect(readFileSync(r.path('.mvm/config.json'), 'utf8')).toBe(config);
    expect(snapshot(r)).toEqual(before);
  });

  it('NO_VERSIONS (exit 4) for HEAD in a repository without versions', () => {
    const r = repo({ commit: false });
    expectError(r.run(['show', '--json']), 'NO_VERSIONS');
    expectError(r.run(['diff', 'HEAD', 'HEAD', '--json']), 'NO_VERSIONS');
    // log of an empty repository is empty, not an error
    expect(json(r.run(['log', '--json']))).toEqual([]);
  });

  it('LOCKED (exit 6) while another live process holds the lock; reads still work', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 6));
    const lock = r.path('.mvm/lock');
    writeFileSync(
      lock,
      JSON.stringify({ pid: process.pid, host: hostname(), since: new Date().toISOString(), command: 'commit' }),
    );
    const before = snapshot(r);
    const e = expectError(r.run(['commit', '-m', 'blocked', '--json'], { env: { MVM_LOCK_TIMEOUT: '300' } }), 'LOCKED');
    expect(e.data.owner.pid).toBe(process.pid);
    expectError(r.run(['deploy', 'v1', '--json'], { env: { MVM_LOCK_TIMEOUT: '300' } }), 'LOCKED');
    expect(snapshot(r)).toEqual(before);
    expect(existsSync(lock)).toBe(true); // someone else's lock is left alone
    rmSync(lock);
    expect(json(r.run(['commit', '-m', 'now', '--json'])).number).toBe(2);
  });

  it('OBJECT_CORRUPT (exit 7) when checkout meets a damaged chunk; fsck exits 7 and names the version and path', () => {
    const r = repo();
    const v = json(r.run(['show', 'v1', '--json']));
    const fileId: string = v.version.files['models/w.bin'].file;
    const objects = r.path('.mvm/objects');
    const chunk = [...storedIds(objects)].find((id) => id !== v.id && id !== fileId)!;
    corruptStored(objects, chunk);

    const f = r.run(['fsck', '--json']);
    expect(f.exitCode).toBe(7);
    const report = JSON.parse(f.stdout);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ kind: 'corrupt', id: chunk });
    expect(report.problems[0].usedBy).toEqual([{ version: v.id, number: 1, path: 'models/w.bin' }]);

    rmSync(r.path('models/w.bin'));
    const e = expectError(r.run(['checkout', 'main', '--json']), 'OBJECT_CORRUPT');
    expect(e.data.id).toBe(chunk);
    // no half-written file was left in the workspace
    expect(existsSync(r.path('models/w.bin'))).toBe(false);
  });

  it('REF_CORRUPT (exit 7) when a branch file does not hold an id', () => {
    const r = repo();
    writeFileSync(r.path('.mvm/refs/heads/main'), 'not an id\n');
    expectError(r.run(['show', 'HEAD', '--json']), 'REF_CORRUPT');
    expectError(r.run(['show', 'main', '--json']), 'REF_CORRUPT');
    expect(r.run(['fsck', '--json']).exitCode).toBe(7);
  });
});

describe('revision errors', () => {
  it('UNKNOWN_REVISION (exit 4): v99, a missing branch, an unknown hash, history too short', () => {
    const r = repo();
    for (const [args, rev] of [
      [['show', 'v99'], 'v99'],
      [['show', 'no-such-branch'], 'no-such-branch'],
      [['show', 'deadbeef'], 'deadbeef'],
      [['checkout', 'HEAD~5'], 'HEAD~5'],
      [['diff', 'v1', 'v0'], 'v0'],
      [['deploy', 'v99'], 'v99'],
    ] as const) {
      const e = expectError(r.run([...args, '--json']), 'UNKNOWN_REVISION');
      expect(e.data.revision, args.join(' ')).toBe(rev);
    }
    expectError(r.run(['branch', '-d', 'no-such-branch', '--json']), 'UNKNOWN_REVISION');
    // nothing was deployed and no branch was made
    expectError(r.run(['show', 'deployed', '--json']), 'NOTHING_DEPLOYED');
    expect(json<any[]>(r.run(['branch', '--json'])).map((b) => b.name)).toEqual(['main']);
  });

  it('AMBIGUOUS_REVISION (exit 4): a name that is both a branch and a tag', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 7));
    ok(r.run(['commit', '-m', 'second']));
    ok(r.run(['branch', 'exp', 'v1']));
    ok(r.run(['tag', 'exp', 'v2']));
    const e = expectError(r.run(['show', 'exp', '--json']), 'AMBIGUOUS_REVISION');
    expect(e.data.revision).toBe('exp');
    expectError(r.run(['checkout', 'exp', '--json']), 'AMBIGUOUS_REVISION');
    // the full ref names resolve
    const v1 = json(r.run(['show', 'v1', '--json'])).id;
    const v2 = json(r.run(['show', 'v2', '--json'])).id;
    expect(json(r.run(['show', 'refs/heads/exp', '--json'])).id).toBe(v1);
    expect(json(r.run(['show', 'refs/tags/exp', '--json'])).id).toBe(v2);
  });

  it('AMBIGUOUS_REVISION (exit 4): a hash prefix shared by two versions', async () => {
    // Versions are content-addressed, so two siblings of v1 that differ only in their
    // message can be searched for offline until two ids share 4 hex digits.
    const r = repo();
    const v1 = json(r.run(['show', 'v1', '--json'])).id as string;
    const date = '2026-01-01T00:00:00.000Z';
    ok(r.run(['checkout', 'v1']));
    const probe = json(r.run(['commit', '--allow-empty', '-m', 'probe-0', '--date', date, '--json']));
    const manifest = json(r.run(['show', probe.id, '--json'])).version;
    // imported here so a change in src/ can only break this test, not the file
    const { canonicalJson } = await import('../../../src/core/canonical.js');
    const idOf = (message: string) => bytesToHex(blake3(Buffer.from(canonicalJson({ ...manifest, message }))));
    // the offline id must be what mvm computes, or the search below means nothing
    expect(idOf('probe-0')).toBe(probe.id);

    const byPrefix = new Map<string, string>([
      [v1.slice(0, 4), 'v1'],
      [probe.id.slice(0, 4), 'probe-0'],
    ]);
    let pair: [string, string] | null = v1.slice(0, 4) === probe.id.slice(0, 4) ? ['v1', 'probe-0'] : null;
    for (let i = 1; !pair && i < 100_000; i++) {
      const m = `probe-${i}`;
      const p = idOf(m).slice(0, 4);
      const other = byPrefix.get(p);
      if (other) pair = [other, m];
      else byPrefix.set(p, m);
    }
    expect(pair).not.toBeNull();
    const ids: string[] = [];
    for (const m of pair!) {
      if (m === 'v1') {
        ids.push(v1);
        continue;
      }
      if (m === 'probe-0') {
        ids.push(probe.id);
        continue;
      }
      ok(r.run(['checkout', 'v1']));
      const c = json(r.run(['commit', '--allow-empty', '-m', m, '--date', date, '--json']));
      expect(c.id).toBe(idOf(m));
      ids.push(c.id);
    }
    const prefix = ids[0]!.slice(0, 4);
    expect(ids[1]!.slice(0, 4)).toBe(prefix);
    const e = expectError(r.run(['show', prefix, '--json']), 'AMBIGUOUS_REVISION');
    expect([...(e.data.candidates as string[])].sort()).toEqual([...ids].sort());
    expectError(r.run(['checkout', prefix, '--json']), 'AMBIGUOUS_REVISION');
    // enough digits to tell them apart resolve
    let n = 5;
    while (ids[0]!.slice(0, n) === ids[1]!.slice(0, n)) n++;
    expect(json(r.run(['show', ids[0]!.slice(0, n), '--json'])).id).toBe(ids[0]);
    expect(json(r.run(['show', ids[1]!.slice(0, n), '--json'])).id).toBe(ids[1]);
  });

  it('BAD_REF_NAME (exit 2) for names that read as another revision or break the rules', () => {
    const r = repo();
    for (const name of ['v3', 'HEAD', 'deadbeef', 'a..b', 'a b']) {
      const e = expectError(r.run(['branch', name, '--json']), 'BAD_REF_NAME');
      expect(e.data.name).toBe(name);
    }
    expectError(r.run(['tag', 'v1', '--json']), 'BAD_REF_NAME');
    expect(json<any[]>(r.run(['branch', '--json'])).map((b) => b.name)).toEqual(['main']);
    expect(json<any[]>(r.run(['tag', '--json']))).toEqual([]);
  });

  it('deleting the current branch is refused and the branch stays', () => {
    const r = repo();
    const e = expectError(r.run(['branch', '-d', 'main', '--json']), 'BAD_ARGUMENT');
    expect(e.data.name).toBe('main');
    expect(json<any[]>(r.run(['branch', '--json']))).toEqual([
      expect.objectContaining({ name: 'main', current: true }),
    ]);
    expect(json(r.run(['status', '--json'])).branch).toBe('main');
  });

  it('NOTHING_DEPLOYED and NO_PREVIOUS_DEPLOYMENT (exit 4)', () => {
    const r = repo();
    expectError(r.run(['rollback', '--json']), 'NOTHING_DEPLOYED');
    expectError(r.run(['rollback', '--to', 'v1', '--json']), 'NOTHING_DEPLOYED');
    expectError(r.run(['show', 'deployed', '--json']), 'NOTHING_DEPLOYED');
    expect(json(r.run(['deploy', '--json']))).toEqual([]);
    ok(r.run(['deploy', 'v1']));
    expectError(r.run(['rollback', '--json']), 'NO_PREVIOUS_DEPLOYMENT');
    expectError(r.run(['show', 'deployed@{1}', '--json']), 'NO_PREVIOUS_DEPLOYMENT');
    expect(json<any[]>(r.run(['deploy', '--json']))).toHaveLength(1);
  });
});
