import { describe, expect, it } from 'vitest';
import { appendFileSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mvm, testdir } from '../helpers/cli.js';
import { expectError, json, ok } from '../helpers/assertions.js';

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
  it('malformed lines in logs/deployed and logs/annotations and a garbled numbers line are skipped by readers and reported by fsck', () => {
    const { t, run, mvmDir } = setup();
    try {
      const deployed = readFileSync(join(mvmDir, 'logs/deployed'), 'utf8');
      writeFileSync(join(mvmDir, 'logs/deployed'), `garbage{\n${deployed}{"action":"deploy","to":"../../etc"}\n`);
      appendFileSync(join(mvmDir, 'logs/annotations'), '{"target":"x"}\n[1,2]\n');
      appendFileSync(join(mvmDir, 'numbers'), `${'z'.repeat(64)}\n`);
      rmSync(join(mvmDir, 'index'), { recursive: true, force: true });
      const log = json(run(['log', '--json']));
      expect(log.map((e: { number: number; metrics: Record<string, number> }) => [e.number, e.metrics])).toEqual([[1, { acc: 0.5, f1: 0.4 }]]);
      ok(run(['show', 'v1']));
      expect(json(run(['best', '--metric', 'f1', '--json'])).value).toBe(0.4);
      expect(run(['deploy', 'v1']).stdout).toContain('already deployed');
      expectError(run(['show', 'v2', '--json']), 'UNKNOWN_REVISION', 4);
      const f = run(['fsck', '--json']);
      expect(f.exitCode).toBe(7);
      const problems = JSON.parse(f.stdout).problems.map((p: { kind: string; ref: string; message: string }) => `${p.kind} ${p.ref} ${p.message.match(/line \d+/)?.[0]}`);
      expect(problems.sort()).toEqual(['bad-file numbers line 2', 'bad-log logs/annotations line 2', 'bad-log logs/annotations line 3', 'bad-log logs/deployed line 1', 'bad-log logs/deployed line 3'].sort());
    } finally {
      t.cleanup();
    }
  });

  it('an unreadable tracked.json stops only the commands that need it; a missing annotation object stops show but not log', () => {
    const { t, run, mvmDir } = setup();
    try {
      writeFileSync(join(mvmDir, 'tracked.json'), '{"paths": 5');
      expect(run(['status']).stderr).toContain('tracked.json');
      expect(run(['status']).exitCode).not.toBe(0);
      ok(run(['log']));
      ok(run(['show', 'v1']));
      expect(JSON.parse(run(['fsck', '--json']).stdout).problems.map((p: { kind: string; ref: string }) => `${p.kind} ${p.ref}`)).toEqual(['bad-file tracked.json']);
      writeFileSync(join(mvmDir, 'tracked.json'), '{"paths": ["a.txt"]}');
      const ann = JSON.parse(readFileSync(join(mvmDir, 'logs/annotations'), 'utf8').trim()).annotation as string;
      unlinkSync(join(mvmDir, 'objects', ann.slice(0, 2), ann.slice(2)));
      rmSync(join(mvmDir, 'index'), { recursive: true, force: true });
      expect(json(run(['log', '--json']))[0].metrics).toEqual({ acc: 0.5 });
      expectError(run(['show', 'v1', '--json']), 'OBJECT_MISSING', 7);
      const problems = JSON.parse(run(['fsck', '--json']).stdout).problems;
      expect(problems.map((p: { kind: string; id: string }) => `${p.kind} ${p.id}`)).toEqual([`missing ${ann}`]);
    } finally {
      t.cleanup();
    }
  });
});
