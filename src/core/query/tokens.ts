/** The lexer of the query language: source text to tokens (paths, numbers, strings, operators, keywords). */
import type { CompareOp } from './ast.js';
import { fail } from './errors.js';

/** One segment of a dotted/bracketed field path, with its source offset and whether it was quoted. */
export interface Segment {
  text: string;
  pos: number;
  quoted: boolean;
}

/** A lexer token; `pos`/`end` are the 0-based source offsets it spans. */
export type Token =
  | { t: 'path'; pos: number; end: number; segs: Segment[] }
  | { t: 'num'; pos: number; end: number; value: number }
  | { t: 'str'; pos: number; end: number; value: string }
  | { t: 'op'; pos: number; end: number; op: CompareOp }
  | { t: 'and' | 'or' | 'not' | 'lparen' | 'rparen' | 'true' | 'false' | 'exists' | 'eof'; pos: number; end: number };

const WORD_START = /[A-Za-z_]/;
const SEGMENT_START = /[A-Za-z0-9_]/;
const WORD_CHAR = /[A-Za-z0-9_-]/;
const NUMBER_RE = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const HEX4 = /^[0-9A-Fa-f]{4}$/;

const KEYWORDS: Record<string, 'and' | 'or' | 'not' | 'true' | 'false' | 'exists' | 'contains'> = {
  and: 'and',
  or: 'or',
  not: 'not',
  true: 'true',
  false: 'false',
  exists: 'exists',
  contains: 'contains',
};

/** Reads a quoted string starting at `start` (the quote); returns its value and the index after the closing quote. */
function readQuoted(source: string, start: number, what: string): { value: string; end: number } {
  const quote = source[start]!;
  let out = '';
  let i = start + 1;
  while (i < source.length) {
    const c = source[i]!;
    if (c === quote) return { value: out, end: i + 1 };
    if (c === '\\') {
      if (i + 1 >= source.length) break;
      const n = source[i + 1]!;
      switch (n) {
        case '\\':
        case '"':
        case "'":
        case '`':
          out += n;
          i += 2;
          continue;
        case 'n':
          out += '\n';
          i += 2;
          continue;
        case 't':
          out += '\t';
          i += 2;
          continue;
        case 'r':
          out += '\r';
          i += 2;
          continue;
        case 'u': {
          const hex4 = source.slice(i + 2, i + 6);
          if (HEX4.test(hex4)) {
            out += String.fromCharCode(parseInt(hex4, 16));
            i += 6;
            continue;
          }
          const braced = /^\{([0-9A-Fa-f]{1,6})\}/.exec(source.slice(i + 2));
          if (braced && parseInt(braced[1]!, 16) <= 0x10ffff) {
            out += String.fromCodePoint(parseInt(braced[1]!, 16));
            i += 2 + braced[0].length;
            continue;
          }
          break; // not a valid \u escape: keep it verbatim below
        }
        default:
          break;
      }
      // Any other escape is kept as written, so regex sources like "\d+\.\d" work undoubled.
      out += c + n;
      i += 2;
      continue;
    }
    out += c;
    i++;
  }
  fail(source, start, `unterminated ${what} starting at position ${start}`, `close it with a matching ${quote}`);
}

/** Splits a query into tokens, ending with `eof`; throws BAD_EXPRESSION on text no token can start. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  const simple = (t: 'and' | 'or' | 'not' | 'lparen' | 'rparen', len: number): void => {
    tokens.push({ t, pos: i, end: i + len });
    i += len;
  };
  const op = (o: CompareOp, len: number): void => {
    tokens.push({ t: 'op', op: o, pos: i, end: i + len });
    i += len;
  };
  while (i < n) {
    const c = source[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v') {
      i++;
      continue;
    }
    const c2 = source.slice(i, i + 2);
    if (c === '(') simple('lparen', 1);
    else if (c === ')') simple('rparen', 1);
    else if (c2 === '&&') simple('and', 2);
    else if (c2 === '||') simple('or', 2);
    else if (c2 === '==') op('=', 2);
    else if (c2 === '=~') op('~', 2);
    else if (c2 === '!=') op('!=', 2);
    else if (c2 === '!~') op('!~', 2);
    else if (c2 === '<=') op('<=', 2);
    else if (c2 === '>=') op('>=', 2);
    else if (c === '!') simple('not', 1);
    else if (c === '=') op('=', 1);
    else if (c === '<') op('<', 1);
    else if (c === '>') op('>', 1);
    else if (c === '~') op('~', 1);
    else if (c === '"' || c === "'") {
      const { value, end } = readQuoted(source, i, 'string');
      tokens.push({ t: 'str', value, pos: i, end });
      i = end;
    } else if (/[0-9.]/.test(c) || (c === '-' && /[0-9.]/.test(source[i + 1] ?? ''))) {
      NUMBER_RE.lastIndex = i;
      const m = NUMBER_RE.exec(source);
      let end = m ? i + m[0].length : i;
      if (!m || /[A-Za-z0-9_.]/.test(source[end] ?? '')) {
        while (end < n && /[A-Za-z0-9_.+-]/.test(source[end]!)) end++;
        fail(
          source,
          i,
          `invalid number '${source.slice(i, Math.max(end, i + 1))}' at position ${i}`,
          'numbers look like 42, -1.5, .5 or 3e-4; quote text values',
        );
      }
      const value = Number(m[0]);
      if (!Number.isFinite(value)) fail(source, i, `number out of range at position ${i}`, 'use a smaller exponent');
      tokens.push({ t: 'num', value, pos: i, end });
      i = end;
    } else if (WORD_START.test(c)) {
      const start = i;
      const segs: Segment[] = [];
      let j = i + 1;
      while (j < n && WORD_CHAR.test(source[j]!)) j++;
      segs.push({ text: source.slice(i, j), pos: i, quoted: false });
      i = j;
      for (;;) {
        const d = source[i];
        if (d === '.') {
          const e = source[i + 1] ?? '';
          if (SEGMENT_START.test(e)) {
            let k = i + 2;
            while (k < n && WORD_CHAR.test(source[k]!)) k++;
            segs.push({ text: source.slice(i + 1, k), pos: i + 1, quoted: false });
            i = k;
          } else if (e === '`') {
            const { value, end } = readQuoted(source, i + 1, 'quoted key');
            segs.push({ text: value, pos: i + 1, quoted: true });
            i = end;
          } else {
            fail(source, i + 1, `expected a key after '.' at position ${i + 1}`, 'quote unusual keys: metrics.`top-1`');
          }
        } else if (d === '[') {
          const q = source[i + 1] ?? '';
          if (q !== '"' && q !== "'" && q !== '`') {
            fail(source, i + 1, `expected a quoted key after '[' at position ${i + 1}`, 'write metrics["top-1"]');
          }
          const { value, end } = readQuoted(source, i + 1, 'quoted key');
          if (source[end] !== ']') fail(source, end, `expected ']' at position ${end}`, 'write metrics["top-1"]');
          segs.push({ text: value, pos: i + 1, quoted: true });
          i = end + 1;
        } else break;
      }
      const kw = segs.length === 1 ? KEYWORDS[segs[0]!.text.toLowerCase()] : undefined;
      if (kw === 'contains') tokens.push({ t: 'op', op: 'contains', pos: start, end: i });
      else if (kw !== undefined) tokens.push({ t: kw, pos: start, end: i });
      else tokens.push({ t: 'path', segs, pos: start, end: i });
    } else if (c === '&' || c === '|') {
      fail(
        source,
        i,
        `unexpected character '${c}' at position ${i}`,
        `use '${c}${c}' or '${c === '&' ? 'and' : 'or'}'`,
      );
    } else if (c === '-') {
      fail(
        source,
        i,
        `unexpected character '-' at position ${i}`,
        'there is no arithmetic; negative numbers are written -1.5',
      );
    } else {
      fail(
        source,
        i,
        `unexpected character '${c}' at position ${i}`,
        'quote text values and unusual keys (metrics.`top-1`)',
      );
    }
  }
  tokens.push({ t: 'eof', pos: n, end: n });
  return tokens;
}
