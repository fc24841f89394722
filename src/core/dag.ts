/** What the DAG walkers need to know of a version. */
export interface DagNode {
  parents: string[];
  time: string;
}

/** Loads a version's parents and time by id. */
export type NodeLoader = (id: string) => DagNode;

/**
 * Lists the versions reachable from `starts`, newest first (by time, ties by
 * id), each once, like `git log`. `limit` stops the walk early.
 */
export function walkHistory(starts: string[], load: NodeLoader, limit = Infinity): string[] {
  const out: string[] = [];
  if (limit <= 0) return out;
  for (const id of iterateHistory(starts, load)) {
    out.push(id);
    if (out.length >= limit) break;
  }
  return out;
}

/** walkHistory one version at a time: a caller that stops early loads no more than it saw. */
export function* iterateHistory(starts: string[], load: NodeLoader): Generator<string> {
  const seen = new Set<string>();
  // max-heap on (time, id)
  const heap: { id: string; time: string }[] = [];
  const before = (a: { id: string; time: string }, b: { id: string; time: string }) =>
    a.time > b.time || (a.time === b.time && a.id > b.id);
  const push = (id: string) => {
    if (seen.has(id)) return;
    seen.add(id);
    heap.push({ id, time: load(id).time });
    for (let i = heap.length - 1; i > 0; ) {
      const p = (i - 1) >> 1;
      if (!before(heap[i]!, heap[p]!)) break;
      [heap[i], heap[p]] = [heap[p]!, heap[i]!];
      i = p;
    }
  };
  const pop = () => {
    const top = heap[0]!;
    const last = heap.pop()!;
    if (heap.length) {
      heap[0] = last;
      for (let i = 0; ; ) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < heap.length && before(heap[l]!, heap[m]!)) m = l;
        if (r < heap.length && before(heap[r]!, heap[m]!)) m = r;
        if (m === i) break;
        [heap[i], heap[m]] = [heap[m]!, heap[i]!];
        i = m;
      }
    }
    return top;
  };
  starts.forEach(push);
  while (heap.length) {
    const { id } = pop();
    yield id;
    load(id).parents.forEach(push);
  }
}

/** Follows `~N` (N first parents back) and `^N` (the N-th parent) steps; null when history is too short. */
export function followSteps(id: string, steps: { op: '~' | '^'; n: number }[], load: NodeLoader): string | null {
  let cur: string | null = id;
  for (const s of steps) {
    if (cur === null) return null;
    if (s.op === '~') {
      for (let i = 0; i < s.n && cur !== null; i++) cur = load(cur).parents[0] ?? null;
    } else if (s.n > 0) {
      cur = load(cur).parents[s.n - 1] ?? null;
    }
  }
  return cur;
}

/** True when `ancestor` is reachable from `from` (a version is its own ancestor). */
export function isAncestor(ancestor: string, from: string, load: NodeLoader): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop()!;
    if (id === ancestor) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...load(id).parents);
  }
  return false;
}

/**
 * Draws the ASCII graph column for `git log --graph`-style output. `order`
 * lists ids in display order with their parents; the result has, per entry,
 * the prefix of its own line and any connector lines to print after it.
 */
export function renderGraph(order: { id: string; parents: string[] }[]): { prefix: string; after: string[] }[] {
  let lanes: string[] = [];
  return order.map(({ id, parents }) => {
    let col = lanes.indexOf(id);
    if (col < 0) {
      lanes.push(id);
      col = lanes.length - 1;
    }
    const prefix = lanes.map((_, i) => (i === col ? '*' : '|')).join(' ');
    const after: string[] = [];
    const next = [...lanes];
    // this lane now waits for the first parent; other parents not yet on a lane get new lanes; a root ends its lane
    next.splice(col, 1, ...parents.filter((p, i) => i === 0 || !lanes.includes(p)));
    if (parents.length > 1) after.push(lanes.map((_, i) => (i === col ? '|\\' : '|')).join(' '));
    // lanes that now wait for the same version merge into the leftmost one
    const merged: string[] = [];
    for (const l of next) {
      if (merged.includes(l)) {
        after.push(
          merged
            .map(() => '|')
            .join(' ')
            .replace(/\|$/, '|/'),
        );
        continue;
      }
      merged.push(l);
    }
    lanes = merged.filter((l) => l !== undefined);
    return { prefix, after };
  });
}
