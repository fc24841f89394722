import { RE2JS } from 're2js';

/** A compiled `~` pattern: true when it matches anywhere in the text. */
export interface Regex {
  test(text: string): boolean;
}

/**
 * Compiles a `--where` regular expression with RE2 (re2js): matching time is
 * linear in the text for every pattern, so no expression can hang a query
 * (JavaScript's backtracking engine takes exponential time on `(a+)+b`).
 * The syntax is JavaScript's without backreferences and lookaround; an
 * invalid pattern throws with RE2's message.
 */
export function compileRegex(pattern: string): Regex {
  const re = RE2JS.compile(pattern);
  return { test: (text) => re.test(text) };
}
