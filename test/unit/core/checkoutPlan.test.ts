import { describe, it, expect } from 'vitest';
import { planCheckout, type WorkState } from '../../../src/core/checkoutPlan.js';
import type { FileEntry } from '../../../src/core/objects.js';

const id = (c: string) => c.repeat(64).slice(0, 64);
const e = (c: string, mode = 0o644, size = 10): FileEntry => ({ file: id(c), mode, size });
const w = (c: string, mode = 0o644): WorkState => ({ id: id(c), mode });
const work = (m: Record<string, WorkState>) => new Map(Object.entries(m));

describe('planCheckout', () => {
  it('writes nothing for files the workspace already has', () => {
    const head = { 'a.bin': e('a'), 'b.bin': e('b') };
    const plan = planCheckout(head, head, work({ 'a.bin': w('a'), 'b.bin': w('b') }), false);
    expect(plan).toEqual({ write: [], chmod: [], remove: [], conflicts: [], unchanged: 2 });
  });

  it('writes files that differ in the target when the workspace is clean', () => {
    const head = { 'a.bin': e('a'), 'b.bin': e('b') };
    const target = { 'a.bin': e('c'), 'b.bin': e('b') };
    const plan = planCheckout(head, target, work({ 'a.bin': w('a'), 'b.bin': w('b') }), false);
    expect(plan.write).toEqual([{ path: 'a.bin', entry: target['a.bin'] }]);
    expect(plan.unchanged).toBe(1);
    expect(plan.conflicts).toEqual([]);
  });

  it('does not rewrite a file that already holds the target content (even if head differs)', () => {
    const plan = planCheckout({ f: e('a') }, { f: e('b') }, work({ f: w('b') }), false);
    expect(plan.write).toEqual([]);
    expect(plan.conflicts).toEqual([]);
    expect(plan.unchanged).toBe(1);
  });

  it('turns a mode-only change into a chmod', () => {
    const plan = planCheckout(
      { 'run.sh': e('s', 0o644) },
      { 'run.sh': e('s', 0o755) },
      work({ 'run.sh': w('s', 0o644) }),
      false,
    );
    expect(plan.chmod).toEqual([{ path: 'run.sh', mode: 0o755 }]);
    expect(plan.write).toEqual([]);
    expect(plan.unchanged).toBe(0);
    expect(plan.conflicts).toEqual([]);
  });

  it('restores a file deleted in the workspace without a conflict', () => {
    const head = { 'a.bin': e('a') };
    const plan = planCheckout(head, head, work({}), false);
    expect(plan.write).toEqual([{ path: 'a.bin', entry: head['a.bin'] }]);
    expect(plan.conflicts).toEqual([]);
  });

  it('keeps a local change to a path that is the same in both versions, unless forced', () => {
    const head = { 'a.bin': e('a'), 'b.bin': e('b') };
    const target = { 'a.bin': e('a'), 'b.bin': e('c') };
    const local = work({ 'a.bin': w('x'), 'b.bin': w('b') });
    const plan = planCheckout(head, target, local, false);
    expect(plan.conflicts).toEqual([]);
    expect(plan.write).toEqual([{ path: 'b.bin', entry: target['b.bin'] }]);
    const forced = planCheckout(head, target, local, true);
    expect(forced.write.map((x) => x.path)).toEqual(['a.bin', 'b.bin']);
  });

  it('refuses to overwrite a locally modified file unless forced', () => {
    const head = { 'a.bin': e('a') };
    const target = { 'a.bin': e('b') };
    const local = work({ 'a.bin': w('x') });
    const plan = planCheckout(head, target, local, false);
    expect(plan.conflicts).toEqual([{ path: 'a.bin', reason: 'modified' }]);
    expect(plan.write).toEqual([]);
    const forced = planCheckout(head, target, local, true);
    expect(forced.conflicts).toEqual([]);
    expect(forced.write).toEqual([{ path: 'a.bin', entry: target['a.bin'] }]);
  });

  it('counts a local mode change as a modification when the content must be rewritten', () => {
    const plan = planCheckout({ f: e('a', 0o644) }, { f: e('b', 0o644) }, work({ f: w('a', 0o755) }), false);
    expect(plan.conflicts).toEqual([{ path: 'f', reason: 'modified' }]);
  });

  it('reports an untracked file in the way as a conflict unless forced', () => {
    const target = { 'new.bin': e('n') };
    const local = work({ 'new.bin': w('u') });
    const plan = planCheckout({}, target, local, false);
    expect(plan.conflicts).toEqual([{ path: 'new.bin', reason: 'untracked' }]);
    expect(plan.write).toEqual([]);
    expect(planCheckout({}, target, local, true).write).toEqual([{ path: 'new.bin', entry: target['new.bin'] }]);
  });

  it('accepts an untracked file that already has the target content', () => {
    const plan = planCheckout({}, { 'new.bin': e('n') }, work({ 'new.bin': w('n') }), false);
    expect(plan.conflicts).toEqual([]);
    expect(plan.unchanged).toBe(1);
  });

  it('deletes a clean file the target removes', () => {
    const plan = planCheckout({ old: e('o') }, {}, work({ old: w('o') }), false);
    expect(plan.remove).toEqual(['old']);
    expect(plan.conflicts).toEqual([]);
  });

  it('refuses to delete a modified file the target removes unless forced', () => {
    const local = work({ old: w('z') });
    const plan = planCheckout({ old: e('o') }, {}, local, false);
    expect(plan.remove).toEqual([]);
    expect(plan.conflicts).toEqual([{ path: 'old', reason: 'modified' }]);
    expect(planCheckout({ old: e('o') }, {}, local, true).remove).toEqual(['old']);
  });

  it('does nothing for a file removed by the target and already gone from the workspace', () => {
    const plan = planCheckout({ old: e('o') }, {}, work({}), false);
    expect(plan).toEqual({ write: [], chmod: [], remove: [], conflicts: [], unchanged: 0 });
  });

  it('leaves untracked files that neither side knows alone', () => {
    const plan = planCheckout({ a: e('a') }, { a: e('a') }, work({ a: w('a'), 'scratch.txt': w('s') }), false);
    expect(plan).toEqual({ write: [], chmod: [], remove: [], conflicts: [], unchanged: 1 });
  });

  it('lists paths in sorted order and reports every conflict, not just the first', () => {
    const head = { b: e('b'), a: e('a'), c: e('c') };
    const target = { b: e('B'), a: e('A'), c: e('C') };
    const plan = planCheckout(head, target, work({ c: w('x'), a: w('y'), b: w('b') }), false);
    expect(plan.conflicts.map((c) => c.path)).toEqual(['a', 'c']);
    expect(plan.write.map((x) => x.path)).toEqual(['b']);
  });

  it('from an empty head (first checkout) writes everything into an empty workspace', () => {
    const target = { x: e('x'), y: e('y', 0o755) };
    const plan = planCheckout({}, target, work({}), false);
    expect(plan.write.map((x) => x.path)).toEqual(['x', 'y']);
    expect(plan.conflicts).toEqual([]);
  });

  it(
    'a workspace file named constructor or toString is a file, not a member of a plain map (checkout into a ' +
      'repository with no HEAD)',
    () => {
      const target = JSON.parse(`{"__proto__": ${JSON.stringify(e('p'))}}`) as Record<string, FileEntry>;
      const plan = planCheckout({}, target, work({ constructor: w('c'), toString: w('t') }), false);
      expect(plan).toEqual({
        write: [{ path: '__proto__', entry: target.__proto__ }],
        chmod: [],
        remove: [],
        conflicts: [],
        unchanged: 0,
      });
      // a target map without a prototype, as manifests are decoded
      const bare = Object.assign(Object.create(null), target) as Record<string, FileEntry>;
      expect(planCheckout({}, bare, work({ constructor: w('c') }), false).conflicts).toEqual([]);
    },
  );
});
