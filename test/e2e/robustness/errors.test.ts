/**
 * Every error mvm raises on purpose, through the real CLI: the stable `code`
 * and documented exit code (src/errors.ts), the `{"error":{...}}` document on
 * stdout with --json, one `mvm: ` line on stderr, and that a failed command
 * leaves the repository as it was.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { mvm, randomBytes, testdir, type RunOptions, type RunResult } from '../../helpers/cli.js';
import { blake3 } from '@noble/hashes/blake3.js';
import { bytesToHex } from '@noble/hashes/utils.js';

const CHUNK = 4096;
const IS_ROOT = process.getuid?.() === 0;

/** The documented exit code of every error code used here (docs: src/errors.ts ERROR_CODES). */
const EXIT: Record<string, number> = {
  NOT_A_REPOSITORY: 3,
  ALREADY_A_REPOSITORY: 3,
  BAD_ARGUMENT: 2,
  BAD_VALUE: 2,
  BAD_EXPRESSION: 2,
  BAD_REF_NAME: 2,
  PATH_OUTSIDE_WORKSPACE: 2,
  PATH_INSIDE_MVM: 2,
  PATH_NOT_FOUND: 4,
  NOT_TRACKED: 4,
  UNKNOWN_REVISION: 4,
  AMBIGUOUS_REVISION: 4,
  REF_EXISTS: 1,
  NOTHING_DEPLOYED: 4,
  NO_PREVIOUS_DEPLOYMENT: 4,
  NO_VERSIONS: 4,
  UNCOMMITTED_CHANGES: 5,
  LOCKED: 6,
  OBJECT_CORRUPT: 7,
  REF_CORRUPT: 7,
  UNREADABLE: 8,
  DISK_FULL: 8,
};

const cleanups: (() => void)[] = [];
afterEach(() => {
  while (cleanups.length) {
    try {
      cleanups.pop()!();
    } catch {
      /* keep cleaning */
    }
  }
});

function tmp(): ReturnType<typeof testdir> {
  const t = testdir();
  cleanups.push(t.cleanup);
  return t;
}

function ok(r: RunResult): RunResult {
  expect(r.exitCode, `stderr: ${r.stderr}\nstdout: ${r.stdout}`).toBe(0);
  return r;
}

function json<T = any>(r: RunResult): T {
  ok(r);
  return JSON.parse(r.stdout) as T;
}

interface ErrorDoc {
  code: string;
  exitCode: number;
  message: string;
  data: Record<string, any>;
}

/** Asserts an mvm error from a `--json` run: exit code, error document on stdout, one `mvm: ` line on stderr. */
function expectError(r: RunResult, code: string): ErrorDoc {
  const exitCode = EXIT[code]!;
  expect(r.exitCode, `expected ${code}; stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(exitCode);
  let doc: { error: ErrorDoc };
  try {
    doc = JSON.parse(r.stdout);
  } catch {
    throw new Error(`stdout is not the JSON error document: ${r.stdout}`);
  }
  expect(doc.error.code).toBe(code);
  expect(doc.error.exitCode).toBe(exitCode);
  expect(typeof doc.error.message).toBe('string');
  expect(r.stderr).toMatch(/^mvm: [^\n]+\n$/);
  return doc.error;
}

function write(path: string, data: string | Buffer): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
}

type Repo = { dir: string; path: (p: string) => string; run: (args: string[], o?: Partial<RunOptions>) => RunResult };

function repoAt(t: ReturnType<typeof testdir>): Repo {
  return { dir: t.dir, path: t.path, run: (args, o = {}) => mvm(args, { cwd: t.dir, ...o }) };
}

// Two repositories made once and copied for each test (spawning the CLI is the slow part):
// chunk size 4096, tracking models/ (one 20 KB file), without and with a first version.
let emptyTemplate: ReturnType<typeof testdir>;
let committedTemplate: ReturnType<typeof testdir>;
beforeAll(() => {
  emptyTemplate = testdir();
  const r = repoAt(emptyTemplate);
  write(r.path('models/w.bin'), randomBytes(20_000, 5));
  ok(r.run(['init', '--chunk-size', String(CHUNK)]));
  ok(r.run(['add', 'models']));
  committedTemplate = testdir();
  cpSync(emptyTemplate.dir, committedTemplate.dir, { recursive: true });
  ok(repoAt(committedTemplate).run(['commit', '-m', 'first']));
});
afterAll(() => {
  emptyTemplate?.cleanup();
  committedTemplate?.cleanup();
});

/** A fresh copy of a repository tracking models/ (one 20 KB file), with a first version unless `commit: false`. */
function repo(opts: { commit?: boolean } = {}): Repo {
  const t = tmp();
  cpSync((opts.commit === false ? emptyTemplate : committedTemplate).dir, t.dir, { recursive: true });
  return repoAt(t);
}

/** Every file under `dir`, relative, sorted. */
function listFiles(dir: string, base = dir): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...listFiles(p, base));
    else out.push(p.slice(base.length + 1));
  }
  return out.sort();
}

/** What a failed command must not change: objects, numbers, refs, HEAD and the log. */
function snapshot(r: Repo): unknown {
  const mvmDir = r.path('.mvm');
  const read = (p: string) => (existsSync(join(mvmDir, p)) ? readFileSync(join(mvmDir, p), 'utf8') : null);
  return {
    objects: listFiles(join(mvmDir, 'objects')),
    numbers: read('numbers'),
    head: read('HEAD'),
    main: read('refs/heads/main'),
    log: JSON.parse(ok(r.run(['log', '--json'])).stdout).map((e: any) => e.id),
  };
}

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
    const chunk = listFiles(objects).find(
      (p) =>
        !p.startsWith(v.id.slice(0, 2) + '/' + v.id.slice(2)) &&
        !p.startsWith(fileId.slice(0, 2) + '/' + fileId.slice(2)),
    )!;
    const abs = join(objects, chunk);
    chmodSync(abs, 0o644);
    const b = readFileSync(abs);
    b[b.length >> 1]! ^= 0xff;
    writeFileSync(abs, b);

    const f = r.run(['fsck', '--json']);
    expect(f.exitCode).toBe(7);
    const report = JSON.parse(f.stdout);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(1);
    expect(report.problems[0]).toMatchObject({ kind: 'corrupt', id: chunk.replace('/', '') });
    expect(report.problems[0].usedBy).toEqual([{ version: v.id, number: 1, path: 'models/w.bin' }]);

    rmSync(r.path('models/w.bin'));
    const e = expectError(r.run(['checkout', 'main', '--json']), 'OBJECT_CORRUPT');
    expect(e.data.id).toBe(chunk.replace('/', ''));
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

describe('path errors', () => {
  it('PATH_OUTSIDE_WORKSPACE (exit 2) for ../x and absolute paths outside', () => {
    const r = repo({ commit: false });
    const tracked = json(r.run(['status', '--json'])).tracked;
    expectError(r.run(['add', '../x', '--json']), 'PATH_OUTSIDE_WORKSPACE');
    expectError(r.run(['add', dirname(r.dir), '--json']), 'PATH_OUTSIDE_WORKSPACE');
    mkdirSync(r.path('sub'));
    expectError(r.run(['add', '../../elsewhere', '--json'], { cwd: r.path('sub') }), 'PATH_OUTSIDE_WORKSPACE');
    expectError(r.run(['rm', '../x', '--json']), 'PATH_OUTSIDE_WORKSPACE');
    expect(json(r.run(['status', '--json'])).tracked).toEqual(tracked);
  });

  it('a file whose name starts with two dots is inside the workspace', () => {
    const r = repo({ commit: false });
    write(r.path('..weights.bin'), randomBytes(100, 2));
    const a = json(r.run(['add', '..weights.bin', '--json']));
    expect(a.tracked).toContain('..weights.bin');
  });

  it('PATH_INSIDE_MVM (exit 2) for .mvm and anything inside it', () => {
    const r = repo({ commit: false });
    for (const p of ['.mvm', '.mvm/objects', './.mvm/config.json']) {
      expect(expectError(r.run(['add', p, '--json']), 'PATH_INSIDE_MVM').data.path).toBe(p);
    }
    expect(json(r.run(['status', '--json'])).tracked).toEqual(['models']);
    expect(readFileSync(r.path('.gitignore'), 'utf8')).not.toMatch(/^\/\.mvm\/.+/m);
  });

  it('PATH_NOT_FOUND (exit 4) for a missing path; nothing is tracked', () => {
    const r = repo({ commit: false });
    const gitignore = readFileSync(r.path('.gitignore'), 'utf8');
    const e = expectError(r.run(['add', 'missing.bin', '--json']), 'PATH_NOT_FOUND');
    expect(e.data.path).toBe('missing.bin');
    // one missing path among good ones: none is added
    write(r.path('other/x.bin'), 'x');
    expectError(r.run(['add', 'other', 'missing.bin', '--json']), 'PATH_NOT_FOUND');
    expect(json(r.run(['status', '--json'])).tracked).toEqual(['models']);
    expect(readFileSync(r.path('.gitignore'), 'utf8')).toBe(gitignore);
    expectError(r.run(['-C', r.path('nope'), 'status', '--json']), 'PATH_NOT_FOUND');
  });

  it('NOT_TRACKED (exit 4) for mvm rm of an untracked path', () => {
    const r = repo();
    write(r.path('other/x.bin'), 'x');
    expectError(r.run(['rm', 'other', '--json']), 'NOT_TRACKED');
    // a file inside a tracked folder is not itself a tracked spec
    expect(expectError(r.run(['rm', 'models/w.bin', '--json']), 'NOT_TRACKED').data.path).toBe('models/w.bin');
    expect(json(r.run(['status', '--json'])).tracked).toEqual(['models']);
    expect(readFileSync(r.path('.gitignore'), 'utf8')).toContain('/models/');
  });
});

describe('command-line errors', () => {
  it('BAD_VALUE (exit 2) for --metric accuracy=high, and nothing is written', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 8)); // a real change, so a commit would make a version
    const before = snapshot(r);
    const e = expectError(r.run(['commit', '-m', 'x', '--metric', 'accuracy=high', '--json']), 'BAD_VALUE');
    expect(e.data.key).toBe('accuracy');
    expect(snapshot(r)).toEqual(before);
    expect(json<any[]>(r.run(['log', '--json']))).toHaveLength(1);
    // the next good commit gets the next number: none was burned
    expect(json(r.run(['commit', '-m', 'x', '--metric', 'accuracy=0.5', '--json'])).number).toBe(2);
  });

  it('BAD_VALUE (exit 2) for malformed --meta, --param, --date and --chunk-size', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 9));
    const before = snapshot(r);
    expect(expectError(r.run(['commit', '-m', 'x', '--meta', 'novalue', '--json']), 'BAD_VALUE').data.value).toBe(
      'novalue',
    );
    expectError(r.run(['commit', '-m', 'x', '--meta', '=v', '--json']), 'BAD_VALUE');
    expectError(r.run(['commit', '-m', 'x', '--param', 'lr', '--json']), 'BAD_VALUE');
    expectError(r.run(['commit', '-m', 'x', '--date', 'yesterday-ish', '--json']), 'BAD_VALUE');
    expect(snapshot(r)).toEqual(before);
    const t = tmp();
    expectError(mvm(['init', '--chunk-size', '10', '--json'], { cwd: t.dir }), 'BAD_VALUE');
    expect(existsSync(join(t.dir, '.mvm', 'config.json'))).toBe(false);
  });

  it('BAD_EXPRESSION (exit 2) for a bad --where, with the position in error.data', () => {
    const r = repo();
    const e = expectError(r.run(['log', '--where', 'metrics.accuracy >> 0.9', '--json']), 'BAD_EXPRESSION');
    expect(typeof e.data.position).toBe('number');
    expect(e.data.position).toBe(18);
    expect(e.data.expression).toBe('metrics.accuracy >> 0.9');
    const e2 = expectError(r.run(['log', '--where', 'metrics.accuracy > ', '--json']), 'BAD_EXPRESSION');
    expect(e2.data.position).toBe(19);
    const e3 = expectError(r.run(['log', '--where', '(metrics.accuracy > 1', '--json']), 'BAD_EXPRESSION');
    expect(typeof e3.data.position).toBe('number');
  });

  it('BAD_ARGUMENT (exit 2) for an unknown command, an unknown flag, a missing argument', () => {
    const r = repo();
    expectError(r.run(['frobnicate', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['status', '--frob', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['checkout', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['add', '--json']), 'BAD_ARGUMENT');
    const none = mvm([], { cwd: r.dir });
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toMatch(/^mvm: [^\n]+\n$/);
  });

  it('BAD_VALUE or BAD_ARGUMENT (exit 2) for a non-numeric -n', () => {
    const r = repo();
    const res = r.run(['log', '-n', 'abc', '--json']);
    expect(res.exitCode, res.stdout).toBe(2);
    expect(['BAD_VALUE', 'BAD_ARGUMENT']).toContain(JSON.parse(res.stdout).error?.code);
  });

  it('commit without a message is BAD_ARGUMENT (exit 2), and nothing is written', () => {
    const r = repo();
    write(r.path('models/w.bin'), randomBytes(20_000, 10));
    const before = snapshot(r);
    expectError(r.run(['commit', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['commit', '-m', '', '--json']), 'BAD_ARGUMENT');
    expectError(r.run(['commit', '-m', '   ', '--json']), 'BAD_ARGUMENT');
    expect(snapshot(r)).toEqual(before);
  });

  it('REF_EXISTS (exit 1) for a branch that exists', () => {
    const r = repo();
    ok(r.run(['branch', 'exp']));
    expectError(r.run(['branch', 'exp', '--json']), 'REF_EXISTS');
    expectError(r.run(['branch', 'main', '--json']), 'REF_EXISTS');
  });
});

describe('operating-system errors', () => {
  it('UNREADABLE (exit 8) when a tracked file cannot be read; no version is made', () => {
    const t = tmp();
    // root reads anything, so run mvm as nobody in a world-writable folder it owns the repository of
    const as: Partial<RunOptions> = IS_ROOT ? { uid: 65534, gid: 65534 } : {};
    chmodSync(t.dir, 0o777);
    const run = (args: string[]) => mvm(args, { cwd: t.dir, ...as });
    write(t.path('models/a.bin'), randomBytes(20_000, 11));
    write(t.path('models/b.bin'), randomBytes(9_000, 12));
    ok(run(['init', '--chunk-size', String(CHUNK)]));
    if (IS_ROOT) expect(statSync(t.path('.mvm/config.json')).uid).toBe(65534);
    ok(run(['add', 'models']));
    ok(run(['commit', '-m', 'first']));
    const numbers = readFileSync(t.path('.mvm/numbers'), 'utf8');
    const mainRef = readFileSync(t.path('.mvm/refs/heads/main'), 'utf8');

    write(t.path('models/b.bin'), randomBytes(9_000, 13));
    chmodSync(t.path('models/a.bin'), 0o000);
    const e = expectError(run(['commit', '-m', 'second', '--json']), 'UNREADABLE');
    expect(e.data.path).toBe(t.path('models/a.bin'));
    expect(readFileSync(t.path('.mvm/numbers'), 'utf8')).toBe(numbers);
    expect(readFileSync(t.path('.mvm/refs/heads/main'), 'utf8')).toBe(mainRef);
    expect(json<any[]>(run(['log', '--json']))).toHaveLength(1);
    expectError(run(['status', '--json']), 'UNREADABLE');
    ok(run(['fsck']));

    chmodSync(t.path('models/a.bin'), 0o644);
    expect(json(run(['commit', '-m', 'second', '--json'])).number).toBe(2);
  });

  it('DISK_FULL (exit 8) is what ENOSPC and EDQUOT map to', async () => {
    // the mapping the CLI relies on; the next test fills a real disk where it can
    const { fromSystemError } = await import('../../../dist/errors.js');
    const err = fromSystemError(Object.assign(new Error('no space'), { code: 'ENOSPC' }), '/x', 'writing');
    expect(err.code).toBe('DISK_FULL');
    expect(err.exitCode).toBe(8);
    expect(fromSystemError({ code: 'EDQUOT' }, '/x', 'writing').code).toBe('DISK_FULL');
  });

  it.skipIf(!IS_ROOT)(
    'DISK_FULL (exit 8) when the disk fills during a commit; the history stays intact (needs root to mount a tmpfs)',
    async ({ skip }) => {
      const t = tmp();
      const fsDir = t.path('fs');
      mkdirSync(fsDir);
      // 6 MiB: room for the 4 MiB model in the workspace, not for a second copy of it in .mvm
      const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', fsDir], { encoding: 'utf8' });
      // root without the right to mount (a container without CAP_SYS_ADMIN, say): say so rather than pass
      if (mount.status !== 0)
        skip(`cannot mount a tmpfs here: ${(mount.stderr || mount.error?.message || `exit ${mount.status}`).trim()}`);
      cleanups.push(() => {
        spawnSync('umount', ['-l', fsDir]);
      });
      const run = (args: string[]) => mvm(args, { cwd: fsDir });
      write(join(fsDir, 'models/small.bin'), randomBytes(100_000, 14));
      ok(run(['init', '--chunk-size', String(CHUNK)]));
      ok(run(['add', 'models']));
      const v1 = json(run(['commit', '-m', 'small', '--json']));
      const mainRef = readFileSync(join(fsDir, '.mvm/refs/heads/main'), 'utf8');

      write(join(fsDir, 'models/big.bin'), randomBytes(4 << 20, 15)); // incompressible
      const r = run(['commit', '-m', 'big', '--json']);
      expectError(r, 'DISK_FULL');
      expect(readFileSync(join(fsDir, '.mvm/refs/heads/main'), 'utf8')).toBe(mainRef);
      // still full: reads work and the history is intact
      const log = json<any[]>(run(['log', '--json']));
      expect(log.map((e) => e.id)).toEqual([v1.id]);
      expect(json(run(['fsck', '--json'])).ok).toBe(true);
      expect(json(run(['status', '--json'])).changes).toEqual([{ path: 'models/big.bin', status: 'added' }]);

      // free the space and carry on
      rmSync(join(fsDir, 'models/big.bin'));
      write(join(fsDir, 'models/small.bin'), randomBytes(100_000, 16));
      expect(json(run(['commit', '-m', 'after', '--json'])).number).toBe(2);
      expect(json(run(['fsck', '--json'])).ok).toBe(true);
      ok(run(['checkout', 'v1']));
      expect(readFileSync(join(fsDir, 'models/small.bin')).equals(randomBytes(100_000, 14))).toBe(true);
    },
  );
});
