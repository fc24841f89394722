import { describe, it, expect } from 'vitest';
import { walkHistory, followSteps, isAncestor, renderGraph, type DagNode } from '../../../src/core/dag.js';

/** A graph given as id -> [parents, minute]; times become ISO strings. */
function graph(spec: Record<string, [string[], number]>) {
  const nodes = new Map<string, DagNode>();
  for (const [id, [parents, min]] of Object.entries(spec)) {
    nodes.set(id, { parents, time: new Date(Date.UTC(2024, 0, 1, 0, min)).toISOString() });
  }
  const loads: string[] = [];
  const load = (id: string): DagNode => {
    loads.push(id);
    const n = nodes.get(id);
    if (!n) throw new Error(`unknown node ${id}`);
    return n;
  };
  return { load, loads };
}

// A <- B <- D <- F (merge of D and E)
//  \<- C <- E <-/
const diamond = () =>
  graph({
    A: [[], 1],
    B: [['A'], 2],
    C: [['A'], 3],
    D: [['B'], 4],
    E: [['C'], 5],
    F: [['D', 'E'], 6],
  });

describe('walkHistory', () => {
  it('lists a linear history newest first', () => {
    const { load } = graph({ a: [[], 1], b: [['a'], 2], c: [['b'], 3] });
    expect(walkHistory(['c'], load)).toEqual(['c', 'b', 'a']);
  });

  it('orders merged branches by time and lists each version once', () => {
    const { load } = diamond();
    expect(walkHistory(['F'], load)).toEqual(['F', 'E', 'D', 'C', 'B', 'A']);
  });

  it('orders by time, not by the order parents are listed', () => {
    const { load } = graph({ A: [[], 1], old: [['A'], 2], young: [['A'], 9], M: [['old', 'young'], 10] });
    expect(walkHistory(['M'], load)).toEqual(['M', 'young', 'old', 'A']);
  });

  it('breaks time ties by id, highest first, deterministically', () => {
    const { load } = graph({ r: [[], 1], x: [['r'], 5], y: [['r'], 5], z: [['r'], 5], m: [['x', 'z', 'y'], 6] });
    expect(walkHistory(['m'], load)).toEqual(['m', 'z', 'y', 'x', 'r']);
  });

  it('stops at the limit', () => {
    const { load } = diamond();
    expect(walkHistory(['F'], load, 2)).toEqual(['F', 'E']);
    expect(walkHistory(['F'], load, 0)).toEqual([]);
  });

  it('merges several starting points without duplicates', () => {
    const { load } = diamond();
    expect(walkHistory(['D', 'E'], load)).toEqual(['E', 'D', 'C', 'B', 'A']);
    expect(walkHistory(['D', 'D', 'B'], load)).toEqual(['D', 'B', 'A']);
  });

  it('returns nothing for no starts', () => {
    const { load } = diamond();
    expect(walkHistory([], load)).toEqual([]);
  });

  it('walks a long history in order', () => {
    const spec: Record<string, [string[], number]> = { n0: [[], 0] };
    for (let i = 1; i < 300; i++) spec[`n${i}`] = [[`n${i - 1}`], i];
    const { load } = graph(spec);
    const out = walkHistory(['n299'], load);
    expect(out.length).toBe(300);
    expect(out[0]).toBe('n299');
    expect(out[299]).toBe('n0');
  });
});

describe('followSteps', () => {
  const { load } = diamond();
  /** Follows `steps` from F, the diamond's tip. */
  const fromF = (...steps: Parameters<typeof followSteps>[1]) => followSteps('F', steps, load);

  it('~N follows first parents', () => {
    expect(followSteps('F', [{ op: '~', n: 1 }], load)).toBe('D');
    expect(followSteps('F', [{ op: '~', n: 2 }], load)).toBe('B');
    expect(followSteps('F', [{ op: '~', n: 3 }], load)).toBe('A');
    expect(followSteps('F', [{ op: '~', n: 0 }], load)).toBe('F');
  });

  it('^N picks the N-th parent; ^0 stays', () => {
    expect(followSteps('F', [{ op: '^', n: 1 }], load)).toBe('D');
    expect(followSteps('F', [{ op: '^', n: 2 }], load)).toBe('E');
    expect(followSteps('F', [{ op: '^', n: 0 }], load)).toBe('F');
  });

  it('chains steps', () => {
    expect(fromF({ op: '^', n: 2 }, { op: '~', n: 1 })).toBe('C');
    expect(fromF({ op: '^', n: 2 }, { op: '~', n: 2 })).toBe('A');
    expect(followSteps('F', [], load)).toBe('F');
  });

  it('returns null when history is too short', () => {
    expect(followSteps('F', [{ op: '~', n: 4 }], load)).toBeNull();
    expect(followSteps('F', [{ op: '^', n: 3 }], load)).toBeNull();
    expect(followSteps('A', [{ op: '^', n: 1 }], load)).toBeNull();
    expect(fromF({ op: '~', n: 4 }, { op: '^', n: 1 })).toBeNull();
    expect(followSteps('D', [{ op: '^', n: 2 }], load)).toBeNull();
  });
});

describe('isAncestor', () => {
  const { load } = diamond();

  it('treats a version as its own ancestor', () => {
    expect(isAncestor('C', 'C', load)).toBe(true);
  });

  it('finds ancestors through first and second parents', () => {
    expect(isAncestor('A', 'F', load)).toBe(true);
    expect(isAncestor('B', 'F', load)).toBe(true);
    expect(isAncestor('C', 'F', load)).toBe(true);
  });

  it('says no for descendants and side branches', () => {
    expect(isAncestor('F', 'A', load)).toBe(false);
    expect(isAncestor('C', 'D', load)).toBe(false);
    expect(isAncestor('E', 'D', load)).toBe(false);
  });

  it('visits each version once in a wide diamond lattice', () => {
    const spec: Record<string, [string[], number]> = { r: [[], 0] };
    let prev = ['r'];
    for (let level = 1; level <= 12; level++) {
      const cur = [`a${level}`, `b${level}`];
      for (const c of cur) spec[c] = [prev, level];
      prev = cur;
    }
    const g = graph(spec);
    expect(isAncestor('zzz', 'a12', (id) => (id === 'zzz' ? { parents: [], time: '' } : g.load(id)))).toBe(false);
    // without dedup this would load 2^12 nodes
    expect(g.loads.length).toBeLessThan(100);
  });
});

describe('renderGraph', () => {
  it('marks every line of a linear history with a single *', () => {
    const g = renderGraph([
      { id: 'c', parents: ['b'] },
      { id: 'b', parents: ['a'] },
      { id: 'a', parents: [] },
    ]);
    expect(g).toEqual([
      { prefix: '*', after: [] },
      { prefix: '*', after: [] },
      { prefix: '*', after: [] },
    ]);
  });

  it('draws two lanes for a fork and joins them at the common parent', () => {
    // D and C both descend from A through B and C
    const g = renderGraph([
      { id: 'D', parents: ['B'] },
      { id: 'C', parents: ['A'] },
      { id: 'B', parents: ['A'] },
      { id: 'A', parents: [] },
    ]);
    expect(g.map((x) => x.prefix)).toEqual(['*', '| *', '* |', '*']);
    expect(g[2]!.after).toEqual(['|/']);
  });

  it('opens a lane at a merge and closes it at the fork point', () => {
    const g = renderGraph([
      { id: 'M', parents: ['B', 'C'] },
      { id: 'C', parents: ['A'] },
      { id: 'B', parents: ['A'] },
      { id: 'A', parents: [] },
    ]);
    expect(g[0]).toEqual({ prefix: '*', after: ['|\\'] });
    expect(g[1]!.prefix).toBe('| *');
    expect(g[2]!.prefix).toBe('* |');
    expect(g[2]!.after).toEqual(['|/']);
    expect(g[3]!.prefix).toBe('*');
  });

  it('keeps the other lanes in place when a root version ends its lane', () => {
    // M2 merges M1 and Z; M1 merges two unrelated roots A and B.
    // After M1 the lanes are [A, B, Z]; A is a root, so its lane ends and
    // B (already waiting in the lane right of it) must be drawn leftmost.
    const g = renderGraph([
      { id: 'M2', parents: ['M1', 'Z'] },
      { id: 'M1', parents: ['A', 'B'] },
      { id: 'A', parents: [] },
      { id: 'B', parents: [] },
      { id: 'Z', parents: [] },
    ]);
    expect(g[0]!.prefix).toBe('*');
    expect(g[1]!.prefix).toBe('* |');
    expect(g[2]!.prefix).toBe('* | |');
    expect(g[3]!.prefix).toBe('* |');
    expect(g[4]!.prefix).toBe('*');
  });
});
