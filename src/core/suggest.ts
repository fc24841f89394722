import { distance } from 'fastest-levenshtein';

/**
 * The candidates closest to a mistyped name, best first, for "did you mean"
 * hints: within an edit distance of a third of its length (1 for names under
 * 4 characters, else 2 to 3: a swapped pair costs 2), or starting with it (an
 * abbreviation such as `acc`).
 */
export function suggest(name: string, candidates: Iterable<string>, max = 3): string[] {
  const limit = name.length < 4 ? 1 : Math.min(3, Math.max(2, Math.floor(name.length / 3)));
  const scored: [string, number][] = [];
  const seen = new Set<string>();
  for (const c of candidates) {
    if (c === name || seen.has(c)) continue;
    seen.add(c);
    const a = name.toLowerCase();
    const b = c.toLowerCase();
    const d = distance(a, b);
    if (d <= limit) scored.push([c, d]);
    else if (a.length >= 2 && b.startsWith(a)) scored.push([c, limit + 0.5]);
  }
  return scored
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, max)
    .map(([c]) => c);
}

/** ` (did you mean 'x'?)` or ` (did you mean 'x' or 'y'?)`, or '' when nothing is close. */
export function didYouMean(name: string, candidates: Iterable<string>): string {
  const s = suggest(name, candidates);
  if (!s.length) return '';
  return ` (did you mean ${s.map((x) => `'${x}'`).join(' or ')}?)`;
}
