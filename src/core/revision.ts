import { MvmError } from '../errors.js';

/** What a revision starts from before any `~N` / `^N` steps. */
export type RevisionBase =
  | { kind: 'number'; n: number }
  | { kind: 'head' }
  | { kind: 'deployed'; back: number; env: string }
  | { kind: 'name'; name: string };

/** A parsed revision: a base and ancestry steps (`~N` = N first parents back, `^N` = N-th parent). */
export interface Revision {
  text: string;
  base: RevisionBase;
  steps: { op: '~' | '^'; n: number }[];
}

/**
 * Parses revision syntax: `v7`, `HEAD`, `deployed`, `deployed@{1}`,
 * `deployed:production`, `deployed:production@{1}`, a branch,
 * tag or hash prefix (told apart later, when refs are known), each optionally
 * followed by `~N`, `~`, `^N` or `^` steps, as in git.
 */
export function parseRevision(text: string): Revision {
  const t = text.trim();
  const cut = stepsStart(t);
  const baseText = t.slice(0, cut);
  if (!baseText)
    throw new MvmError('UNKNOWN_REVISION', `'${text}' is not a revision`, {
      revision: text,
      hint: 'use vN, a hash, a branch, a tag, HEAD, HEAD~N or deployed@{N}',
    });
  const steps: Revision['steps'] = [];
  for (const s of t.slice(cut).matchAll(/([~^])(\d*)/g))
    steps.push({ op: s[1] as '~' | '^', n: s[2] ? Number(s[2]) : 1 });
  let base: RevisionBase;
  const num = /^v(\d+)$/.exec(baseText);
  const dep = /^deployed(?::([^@]*))?(?:@\{(\d+)\})?$/.exec(baseText);
  if (num) base = { kind: 'number', n: Number(num[1]) };
  else if (baseText === 'HEAD' || baseText === '@') base = { kind: 'head' };
  else if (dep)
    base = {
      kind: 'deployed',
      back: dep[2] ? Number(dep[2]) : 0,
      env: dep[1] !== undefined ? validateEnvName(dep[1]) : DEFAULT_ENV,
    };
  else base = { kind: 'name', name: baseText };
  return { text, base, steps };
}

/**
 * Where the trailing `~N` / `^N` steps of a revision begin (its length when there are none), found in one backward
 * pass.
 */
function stepsStart(t: string): number {
  let i = t.length;
  for (;;) {
    let j = i;
    while (j > 0 && t.charCodeAt(j - 1) >= 48 && t.charCodeAt(j - 1) <= 57) j--;
    if (j > 0 && (t[j - 1] === '~' || t[j - 1] === '^')) i = j - 1;
    else return i;
  }
}

const RESERVED = new Set(['HEAD', 'deployed', '@']);

/** The environment `deploy` and `rollback` move when no --env is given; `deployed` names its version. */
export const DEFAULT_ENV = 'default';

/** Checks a deploy environment's name: a short lowercase-friendly word that is safe as a file name. */
export function validateEnvName(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name) || name.endsWith('.lock')) {
    throw new MvmError('BAD_REF_NAME', `'${name}' is not a valid environment name`, {
      name,
      hint: 'use up to 64 letters, digits, ., _ and -, starting with a letter or digit',
    });
  }
  return name;
}

/** Checks a branch or tag name: git's rules, minus names that would read as another revision. */
export function validateRefName(name: string, what: 'branch' | 'tag'): string {
  const bad = (why: string) =>
    new MvmError('BAD_REF_NAME', `'${name}' is not a valid ${what} name: ${why}`, {
      name,
      hint: 'use letters, digits, ., _, - and / between parts',
    });
  if (!name) throw bad('it is empty');
  if (RESERVED.has(name)) throw bad('it is reserved');
  if (/^v\d+$/.test(name)) throw bad('it would read as a version number');
  if (/^[0-9a-f]{4,64}$/.test(name)) throw bad('it would read as a hash');
  if (!/^[A-Za-z0-9._\-/]+$/.test(name)) throw bad('it has characters other than letters, digits, ., _, - and /');
  if (name.split('/').some((p) => p === '' || p.startsWith('.') || p.endsWith('.lock')))
    throw bad("a part is empty, starts with '.' or ends with .lock");
  if (name.startsWith('-') || name.includes('..')) throw bad("it starts with '-' or contains '..'");
  return name;
}
