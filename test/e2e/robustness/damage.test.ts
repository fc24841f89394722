import { describe, expect, it } from 'vitest';
import { appendFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { Repository } from '../../../src/repo/repository/repository.js';
import { join } from 'node:path';
import { mvm, testdir } from '../../helpers/cli.js';
import { expectError, json, ok } from '../../helpers/assertions.js';
import { isPacked, isStored, removeStored, replaceStored, storedBytes } from '../../helpers/storedObjects.js';

function setup() {
  const t = testdir({ 'a.txt': 'hi' });
  const run = (args: string[]) => mvm(args, { cwd: t.dir });
  ok(run(['init']));
  ok(run(['add', 'a.txt']));
  ok(run(['commit', '-m', 'one', '--metric', 'acc=0.5']));
  ok(run(['deploy', 'v1']));
  ok(run(['annotate', 'v1', '--metric', 'f1=0.4']));
  return { t, run, mvmDir: join(t.dir, '.mvm') };
}

describe('damaged metadata: readers carry on, fsck names each problem, nothing crashes', () => {
  it(
    'malformed lines in logs/deployed and logs/annotations and a garbled numbers line are skipped by readers and ' +
      'reported by fsck',
    () => {
      const { t, run, mvmDir } = setup();
      try {
        const deployed = readFileSync(join(mvmDir, 'logs/deployed'), 'utf8');
        writeFileSync(join(mvmDir, 'logs/deployed'), `garbage{\n${deployed}{"action":"deploy","to":"../../etc"}\n`);
        appendFileSync(join(mvmDir, 'logs/annotations'), '{"target":"x"}\n[1,2]\n');
        appendFileSync(join(mvmDir, 'numbers'), `${'z'.repeat(64)}\n`);
        rmSync(join(mvmDir, 'summaries'), { force: true });
        const log = json(run(['log', '--json']));
        expect(log.map((e: { number: number; metrics: Record<string, number> }) => [e.number, e.metrics])).toEqual([
          [1, { acc: 0.5, f1: 0.4 }],
        ]);
        ok(run(['show', 'v1']));
        expect(json(run(['best', '--metric', 'f1', '--json'])).value).toBe(0.4);
        expect(run(['deploy', 'v1']).stdout).toContain('already deployed');
        expectError(run(['show', 'v2', '--json']), 'UNKNOWN_REVISION', 4);
        const f = run(['fsck', '--json']);
        expect(f.exitCode).toBe(7);
        const problems = JSON.parse(f.stdout).problems.map(
          (p: { kind: string; ref: string; message: string }) =>
            `${p.kind} ${p.ref} ${p.message.match(/line \d+/)?.[0]}`,
        );
        expect(problems.sort()).toEqual(
          [
            'bad-file numbers line 2',
            'bad-log logs/annotations line 2',
            'bad-log logs/annotations line 3',
            'bad-log logs/deployed line 1',
            'bad-log logs/deployed line 3',
          ].sort(),
        );
      } finally {
        t.cleanup();
      }
    },
  );

  it(
    'an unreadable tracked.json stops only the commands that need it; a missing annotation object stops show but ' +
      'not log',
    () => {
      const { t, run, mvmDir } = setup();
      try {
        writeFileSync(join(mvmDir, 'tracked.json'), '{"paths": 5');
        expect(run(['status']).stderr).toContain('tracked.json');
        expect(run(['status']).exitCode).not.toBe(0);
        ok(run(['log']));
        ok(run(['show', 'v1']));
        expect(
          JSON.parse(run(['fsck', '--json']).stdout).problems.map(
            (p: { kind: string; ref: string }) => `${p.kind} ${p.ref}`,
          ),
        ).toEqual(['bad-file tracked.json']);
        writeFileSync(join(mvmDir, 'tracked.json'), '{"paths": ["a.txt"]}');
        const ann = JSON.parse(readFileSync(join(mvmDir, 'logs/annotations'), 'utf8').trim()).annotation as string;
        removeStored(join(mvmDir, 'objects'), ann);
        rmSync(join(mvmDir, 'summaries'), { force: true });
        expect(json(run(['log', '--json']))[0].metrics).toEqual({ acc: 0.5 });
        expectError(run(['show', 'v1', '--json']), 'OBJECT_MISSING', 7);
        const problems = JSON.parse(run(['fsck', '--json']).stdout).problems;
        expect(problems.map((p: { kind: string; id: string }) => `${p.kind} ${p.id}`)).toEqual([`missing ${ann}`]);
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('fsck --repair', () => {
  it(
    'mends what can be rebuilt or set aside, lists what cannot, and a commit then restores a lost chunk from the ' +
      'workspace',
    () => {
      const { t, run, mvmDir } = setup();
      try {
        const head = json(run(['show', 'HEAD', '--json']));
        const repo = Repository.open(t.dir);
        const chunk = repo.file(head.version.files['a.txt'].file).chunks[0]!.id;
        // a packed chunk: fsck --repair sets its bytes aside and writes its pack again without it
        expect(isPacked(join(mvmDir, 'objects'), chunk)).toBe(true);
        const bytes = storedBytes(join(mvmDir, 'objects'), chunk);
        bytes[bytes.length - 1] ^= 0xff;
        replaceStored(join(mvmDir, 'objects'), chunk, bytes);
        appendFileSync(join(mvmDir, 'logs/deployed'), 'garbage\n');
        appendFileSync(join(mvmDir, 'numbers'), `${'z'.repeat(64)}\n`);
        writeFileSync(join(mvmDir, 'tracked.json'), '{"paths": 5');
        writeFileSync(join(mvmDir, 'tmp', 'w-leftover'), 'x');
        const before = JSON.parse(run(['fsck', '--json']).stdout);
        expect(before.problems.map((p: { kind: string }) => p.kind).sort()).toEqual([
          'bad-file',
          'bad-file',
          'bad-log',
          'corrupt',
        ]);
        // the LevelDB index an older mvm left: nothing reads it, --repair removes it
        mkdirSync(join(mvmDir, 'index', 'g-old'), { recursive: true });
        writeFileSync(join(mvmDir, 'index', 'active'), 'g-old\n');
        const r = run(['fsck', '--repair', '--json']);
        expect(r.exitCode).toBe(7);
        const rep = JSON.parse(r.stdout);
        expect(rep.problemsBefore).toBe(4);
        expect(rep.repaired.join('\n')).toMatch(
          /logs\/deployed[\s\S]*numbers[\s\S]*tracked\.json[\s\S]*corrupt object[\s\S]*summary file[\s\S]*stat cache/,
        );
        expect(readdirSync(join(mvmDir, 'tmp'))).toEqual([]);
        expect(rep.repaired.join('\n')).toContain('removed .mvm/index');
        expect(existsSync(join(mvmDir, 'index'))).toBe(false);
        // what cannot be mended here: the corrupt chunk, now set aside, is missing
        expect(rep.problems.map((p: { kind: string; id: string }) => `${p.kind} ${p.id}`)).toEqual([
          `missing ${chunk}`,
        ]);
        expect(readFileSync(join(mvmDir, 'logs/deployed.rejected'), 'utf8')).toBe('garbage\n');
        expect(readFileSync(join(mvmDir, 'lost', chunk)).equals(bytes)).toBe(true);
        expect(isStored(join(mvmDir, 'objects'), chunk)).toBe(false);
        expect(JSON.parse(readFileSync(join(mvmDir, 'tracked.json'), 'utf8')).paths).toEqual(['a.txt']);
        // the workspace still has the file: a commit re-reads it and stores the chunk again
        const c = run(['commit', '-m', 'again']);
        expect(c.exitCode).toBe(1);
        expect(c.stderr).toBe('');
        expect(c.stdout).toContain('nothing to commit');
        const after = run(['fsck', '--json']);
        expect(after.exitCode, after.stdout).toBe(0);
        expect(json(run(['log', '--json']))[0].metrics).toEqual({ acc: 0.5, f1: 0.4 });
        ok(run(['rollback', '--to', 'v1']));
      } finally {
        t.cleanup();
      }
    },
  );
});

describe('fsck names every version and path a damaged object hurts', () => {
  it('a chunk shared by seven versions: --json lists all seven, text the first five and how many more', () => {
    const t = testdir({ 'a.txt': 'shared', 'b.txt': '0' });
    try {
      const run = (args: string[]) => mvm(args, { cwd: t.dir });
      ok(run(['init']));
      ok(run(['add', 'a.txt', 'b.txt']));
      for (let i = 1; i <= 7; i++) {
        writeFileSync(join(t.dir, 'b.txt'), String(i));
        ok(run(['commit', '-m', `v${i}`]));
      }
      const repo = Repository.open(t.dir);
      const head = json(run(['show', 'HEAD', '--json']));
      const chunk = repo.file(head.version.files['a.txt'].file).chunks[0]!.id;
      removeStored(join(t.dir, '.mvm', 'objects'), chunk);
      const r = JSON.parse(run(['fsck', '--json']).stdout);
      expect(r.problems).toHaveLength(1);
      expect(
        r.problems[0].usedBy.map((u: { number: number; path: string }) => `v${u.number}:${u.path}`).sort(),
      ).toEqual([1, 2, 3, 4, 5, 6, 7].map((n) => `v${n}:a.txt`));
      const text = run(['fsck']);
      expect(text.exitCode).toBe(7);
      expect(text.stdout).toContain('and 2 more (--json lists all)');
    } finally {
      t.cleanup();
    }
  });
});
