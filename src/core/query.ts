/**
 * The `--where` expression language of `mvm log` and `mvm best`.
 *
 * A query is parsed once into a plain-data AST (`parseQuery`), then compiled
 * once into a closure (`compileQuery`) that is cheap to run per version: regular
 * expressions and date literals are prepared at compile time, never per record.
 *
 * Semantics in one paragraph: a comparison whose field is missing is false
 * (so `not <comparison>` is true for versions lacking the field); numbers
 * compare numerically, strings lexicographically, the `date` field as time
 * (a date literal stands for the whole day/month/second it names); values of
 * different types are equal only if their text forms are, and never ordered.
 * See docs/QUERY.md for the user-facing description and grammar.
 */
import { MvmError } from '../errors.js';

/** The fields of a version that queries can see. */
export interface QueryRecord {
  /** Version id (hex). */
  id: string;
  /** The short number N of vN; `version` in queries. */
  number: number;
  author: string;
  /** ISO-8601 timestamp. */
  date: string;
  message: string;
  metrics: Record<string, number | string | boolean>;
  params: Record<string, number | string | boolean>;
  meta: Record<string, number | string | boolean>;
}

/** A scalar value a query can compare. */
export type QueryValue = number | string | boolean;

/** The keyed namespaces of a record: `metrics.<key>`, `params.<key>`, `meta.<key>`. */
export type Namespace = 'metrics' | 'params' | 'meta';

/** The fixed top-level fields of a record (`version` in queries is `number` here). */
export type RecordField = 'id' | 'number' | 'author' | 'date' | 'message';

/** A comparison operator (`==` is normalised to `=`, `=~` to `~`). */
export type CompareOp = '=' | '!=' | '<' | '<=' | '>' | '>=' | '~' | '!~' | 'contains';

/** A reference to a field: a namespaced key, or a top-level record field (`ns: 'record'`). */
export type FieldRef =
  | { type: 'field'; ns: Namespace; key: string; pos: number }
  | { type: 'field'; ns: 'record'; key: RecordField; pos: number };

/** A literal value as written in the query. */
export interface Literal {
  type: 'literal';
  value: QueryValue;
  pos: number;
}

/** One side of a comparison. */
export type Operand = FieldRef | Literal;

/** The query AST: plain data, safe to serialise; `pos` fields are 0-based source offsets. */
export type Expr =
  | { type: 'or'; args: Expr[] }
  | { type: 'and'; args: Expr[] }
  | { type: 'not'; arg: Expr; pos: number }
  | { type: 'exists'; field: FieldRef; pos: number }
  | { type: 'compare'; op: CompareOp; left: Operand; right: Operand; pos: number };

/** The keyed namespaces, in the order error messages list them. */
export const QUERY_NAMESPACES: readonly Namespace[] = ['metrics', 'params', 'meta'];

/** The top-level field names a query may use (`number` is accepted as an alias of `version`). */
export const QUERY_RECORD_FIELDS: readonly string[] = ['id', 'version', 'author', 'date', 'message'];

const VALID_FIELDS_TEXT = 'metrics.<key>, params.<key>, meta.<key>, id, version, author, date, message';

const RECORD_FIELD_BY_NAME: Record<string, RecordField> = {
  id: 'id',
  version: 'number',
  number: 'number',
  author: 'author',
  date: 'date',
  message: 'message',
};

const NAMESPACE_ALIASES: Record<string, Namespace> = {
  metric: 'metrics',
  param: 'params',
  parameters: 'params',
  parameter: 'params',
  hparams: 'params',
  metadata: 'meta',
};

/** Deepest nesting of parentheses / `not` accepted, so hostile input cannot overflow the stack. */
const MAX_DEPTH = 256;

// ---------------------------------------------------------------------------
// Errors

function fail(source: string, position: number, message: string, hint?: string): never {
  const data: { expression: string; position: number; hint?: string } = { expression: source, position };
  if (hint !== undefined) data.hint = hint;
  throw new MvmError('BAD_EXPRESSION', message, data);
}

/** Renders the source and a caret under `position` as two lines, for printing under a BAD_EXPRESSION error. */
export function formatQueryError(source: string, position: number): string {
  const shown = source.replace(/[\t\n\r\v\f]/g, ' ');
  const at = Math.max(0, Math.min(Number.isFinite(position) ? Math.trunc(position) : 0, shown.length));
  return `${shown}\n${' '.repeat(at)}^`;
}

// ---------------------------------------------------------------------------
// Lexer

interface Segment {
  text: string;
  pos: number;
  quoted: boolean;
}

type Token =
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

function tokenize(source: string): Token[] {
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
      fail(source, i, `unexpected character '${c}' at position ${i}`, `use '${c}${c}' or '${c === '&' ? 'and' : 'or'}'`);
    } else if (c === '-') {
      fail(source, i, `unexpected character '-' at position ${i}`, 'there is no arithmetic; negative numbers are written -1.5');
    } else {
      fail(source, i, `unexpected character '${c}' at position ${i}`, 'quote text values and unusual keys (metrics.`top-1`)');
    }
  }
  tokens.push({ t: 'eof', pos: n, end: n });
  return tokens;
}

// ---------------------------------------------------------------------------
// Dates

/** A half-open interval [lo, hi) of epoch milliseconds: the period a date literal names. */
interface DateSpan {
  lo: number;
  hi: number;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/i;

/** Parses an ISO-8601 date literal into the period it names; null when it is not a valid date. */
function parseDateSpan(text: string): DateSpan | null {
  const m = DATE_RE.exec(text.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? undefined : Number(m[2]);
  const day = m[3] === undefined ? undefined : Number(m[3]);
  const hour = m[4] === undefined ? undefined : Number(m[4]);
  const minute = m[5] === undefined ? undefined : Number(m[5]);
  const second = m[6] === undefined ? undefined : Number(m[6]);
  const frac = m[7];
  const zone = m[8];
  if (month !== undefined && (month < 1 || month > 12)) return null;
  if (day !== undefined) {
    const dim = new Date(Date.UTC(year, month!, 0)).getUTCDate();
    if (day < 1 || day > dim) return null;
  }
  if (hour !== undefined && hour > 23) return null;
  if (minute !== undefined && minute > 59) return null;
  if (second !== undefined && second > 59) return null;
  let offsetMs = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const oh = Number(z[2]);
    const om = z[3] === undefined ? 0 : Number(z[3]);
    if (oh > 23 || om > 59) return null;
    offsetMs = (z[1] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  // Literals without a zone are UTC, so results never depend on the machine's timezone.
  const lo = Date.UTC(year, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0, ms) - offsetMs;
  let hi: number;
  if (month === undefined) hi = Date.UTC(year + 1, 0, 1);
  else if (day === undefined) hi = Date.UTC(year, month, 1);
  else if (hour === undefined) hi = lo + 86_400_000;
  else if (second === undefined) hi = lo + 60_000;
  else if (frac === undefined) hi = lo + 1000;
  else hi = lo + 1;
  return { lo, hi };
}

// ---------------------------------------------------------------------------
// Parser

const OP_TEXT: Record<CompareOp, string> = {
  '=': '=',
  '!=': '!=',
  '<': '<',
  '<=': '<=',
  '>': '>',
  '>=': '>=',
  '~': '~',
  '!~': '!~',
  contains: 'contains',
};

const FLIPPED: Partial<Record<CompareOp, CompareOp>> = {
  '=': '=',
  '!=': '!=',
  '<': '>',
  '<=': '>=',
  '>': '<',
  '>=': '<=',
};

class Parser {
  private i = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    if (this.peek().t === 'eof') {
      fail(this.source, 0, 'empty expression at position 0', 'write a condition such as metrics.accuracy > 0.9');
    }
    const e = this.parseOr();
    const t = this.peek();
    if (t.t === 'rparen') {
      fail(this.source, t.pos, `unexpected ')' at position ${t.pos}: no matching '('`, "remove it or add the missing '('");
    }
    if (t.t !== 'eof') {
      fail(
        this.source,
        t.pos,
        `unexpected ${this.describe(t)} at position ${t.pos}: expected 'and', 'or' or the end of the expression`,
        'join conditions with and / or; quote text values',
      );
    }
    return e;
  }

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    return this.tokens[this.i++]!;
  }

  private text(t: Token): string {
    return this.source.slice(t.pos, t.end);
  }

  private describe(t: Token): string {
    return t.t === 'eof' ? 'end of expression' : `'${this.text(t)}'`;
  }

  private enter(pos: number): void {
    if (++this.depth > MAX_DEPTH) {
      fail(this.source, pos, `expression nests too deeply at position ${pos}`, 'simplify the expression');
    }
  }

  private parseOr(): Expr {
    const args = [this.parseAnd()];
    while (this.peek().t === 'or') {
      this.next();
      args.push(this.parseAnd());
    }
    return args.length === 1 ? args[0]! : { type: 'or', args };
  }

  private parseAnd(): Expr {
    const args = [this.parseUnary()];
    while (this.peek().t === 'and') {
      this.next();
      args.push(this.parseUnary());
    }
    return args.length === 1 ? args[0]! : { type: 'and', args };
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.t === 'not') {
      this.next();
      this.enter(t.pos);
      const arg = this.parseUnary();
      this.depth--;
      return { type: 'not', arg, pos: t.pos };
    }
    return this.parsePrimary();
  }

  /** Fails with "expected a condition after <previous token>", used wherever a condition must start. */
  private expectedCondition(t: Token): never {
    const prev = this.tokens[this.i - 1];
    const after = prev ? ` after '${this.text(prev)}'` : '';
    const found = t.t === 'eof' ? '' : `, found ${this.describe(t)}`;
    if (t.t === 'op') {
      fail(this.source, t.pos, `expected a field before '${this.text(t)}' at position ${t.pos}`, 'write e.g. metrics.accuracy > 0.9');
    }
    fail(this.source, t.pos, `expected a condition${after} at position ${t.pos}${found}`, 'write e.g. metrics.accuracy > 0.9');
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.t) {
      case 'lparen': {
        this.next();
        this.enter(t.pos);
        if (this.peek().t === 'eof') {
          fail(this.source, t.pos, `unclosed '(' at position ${t.pos}`, "add the missing ')'");
        }
        const e = this.parseOr();
        const close = this.peek();
        if (close.t === 'eof') fail(this.source, t.pos, `unclosed '(' at position ${t.pos}`, "add the missing ')'");
        if (close.t !== 'rparen') {
          fail(
            this.source,
            close.pos,
            `expected ')' at position ${close.pos}, found ${this.describe(close)}`,
            'join conditions with and / or; quote text values',
          );
        }
        this.next();
        this.depth--;
        return e;
      }
      case 'exists': {
        this.next();
        const open = this.peek();
        if (open.t !== 'lparen') {
          fail(this.source, open.pos, `expected '(' after 'exists' at position ${open.pos}`, 'write exists(metrics.f1)');
        }
        this.next();
        const f = this.peek();
        if (f.t !== 'path') {
          fail(this.source, f.pos, `expected a field inside exists() at position ${f.pos}`, 'write exists(metrics.f1), without quotes');
        }
        this.next();
        const field = this.resolveField(f);
        const close = this.peek();
        if (close.t !== 'rparen') {
          fail(this.source, close.pos, `expected ')' after the field in exists() at position ${close.pos}`, 'write exists(metrics.f1)');
        }
        this.next();
        return { type: 'exists', field, pos: t.pos };
      }
      case 'path':
      case 'num':
      case 'str':
      case 'true':
      case 'false':
        return this.parseComparison();
      default:
        this.expectedCondition(t);
    }
  }

  private parseComparison(): Expr {
    const leftTok = this.next();
    const opTok = this.peek();
    if (opTok.t !== 'op') {
      const found = opTok.t === 'eof' ? '' : `, found ${this.describe(opTok)}`;
      const name = this.text(leftTok);
      fail(
        this.source,
        opTok.pos,
        `expected a comparison operator after '${name}' at position ${opTok.pos}${found}`,
        leftTok.t === 'path'
          ? `compare it (${name} = true, ${name} > 0) or test exists(${name})`
          : 'operators are = != < <= > >= ~ !~ contains',
      );
    }
    this.next();
    const op = opTok.op;
    const rightTok = this.peek();
    if (rightTok.t !== 'path' && rightTok.t !== 'num' && rightTok.t !== 'str' && rightTok.t !== 'true' && rightTok.t !== 'false') {
      const found = rightTok.t === 'eof' ? '' : `, found ${this.describe(rightTok)}`;
      fail(
        this.source,
        rightTok.pos,
        `expected a value after '${this.text(opTok)}' at position ${rightTok.pos}${found}`,
        'values are numbers, true/false, or quoted strings',
      );
    }
    this.next();

    // `version > v12`: a vN word next to the version field is the number N.
    const leftIsVersion = this.isVersionPath(leftTok);
    const rightIsVersion = this.isVersionPath(rightTok);
    let left = this.resolveOperand(leftTok, rightIsVersion);
    let right = this.resolveOperand(rightTok, leftIsVersion);

    if (left.type === 'literal' && right.type === 'literal') {
      fail(
        this.source,
        left.pos,
        `comparison at position ${left.pos} has no field on either side`,
        'field names are not quoted: write metrics.accuracy > 0.9',
      );
    }
    let finalOp = op;
    if (left.type === 'literal' && right.type === 'field' && FLIPPED[op] !== undefined) {
      [left, right] = [right, left];
      finalOp = FLIPPED[op]!;
    }
    if (op === '~' || op === '!~') {
      if (right.type !== 'literal' || typeof right.value !== 'string') {
        fail(
          this.source,
          right.pos,
          `expected a quoted regular expression after '${this.text(opTok)}' at position ${right.pos}`,
          'write e.g. author ~ "^ali"',
        );
      }
      try {
        new RegExp(right.value);
      } catch (e) {
        const why = (e as Error).message.replace(/^Invalid regular expression: \/.*\/[a-z]*: /s, '');
        fail(
          this.source,
          right.pos,
          `invalid regular expression ${JSON.stringify(right.value)} at position ${right.pos}: ${why}`,
          'regexes use JavaScript syntax; escape special characters with a backslash',
        );
      }
    }
    if (isDateField(left) && right.type === 'literal' && typeof right.value === 'string' && !isTextOp(finalOp)) {
      if (parseDateSpan(right.value) === null) {
        fail(
          this.source,
          right.pos,
          `invalid date ${JSON.stringify(right.value)} at position ${right.pos}`,
          'use ISO-8601, e.g. "2026-01-31" or "2026-01-31T12:00:00Z"',
        );
      }
    }
    return { type: 'compare', op: finalOp, left, right, pos: opTok.pos };
  }

  private isVersionPath(t: Token): boolean {
    return t.t === 'path' && t.segs.length === 1 && !t.segs[0]!.quoted && RECORD_FIELD_BY_NAME[t.segs[0]!.text.toLowerCase()] === 'number';
  }

  private resolveOperand(t: Token, otherIsVersion: boolean): Operand {
    switch (t.t) {
      case 'num':
        return { type: 'literal', value: t.value, pos: t.pos };
      case 'str':
        return { type: 'literal', value: t.value, pos: t.pos };
      case 'true':
        return { type: 'literal', value: true, pos: t.pos };
      case 'false':
        return { type: 'literal', value: false, pos: t.pos };
      case 'path': {
        if (otherIsVersion && t.segs.length === 1 && /^v\d+$/i.test(t.segs[0]!.text)) {
          return { type: 'literal', value: Number(t.segs[0]!.text.slice(1)), pos: t.pos };
        }
        return this.resolveField(t);
      }
      default:
        throw new Error('unreachable');
    }
  }

  private resolveField(t: Token & { t: 'path' }): FieldRef {
    const [head, ...rest] = t.segs;
    const name = head!.text.toLowerCase();
    const shown = this.text(t);
    if ((QUERY_NAMESPACES as readonly string[]).includes(name)) {
      if (rest.length === 0) {
        fail(this.source, t.end, `expected a key after '${head!.text}' at position ${t.end}`, `write e.g. ${name}.accuracy`);
      }
      const key = rest.map((s) => s.text).join('.');
      if (rest.some((s) => s.text === '')) {
        const empty = rest.find((s) => s.text === '')!;
        fail(this.source, empty.pos, `empty key at position ${empty.pos}`, 'keys cannot be empty');
      }
      return { type: 'field', ns: name as Namespace, key, pos: t.pos };
    }
    const recordField = RECORD_FIELD_BY_NAME[name];
    if (recordField !== undefined) {
      if (rest.length > 0) {
        const p = rest[0]!.pos - 1;
        fail(this.source, p, `field '${head!.text}' has no keys, at position ${p}`, `write just ${name}`);
      }
      return { type: 'field', ns: 'record', key: recordField, pos: t.pos };
    }
    const alias = NAMESPACE_ALIASES[name];
    let hint: string;
    if (alias !== undefined && rest.length > 0) hint = `did you mean ${alias}.${rest.map((s) => s.text).join('.')}?`;
    else if (rest.length === 0) hint = `keys need a namespace (metrics.${head!.text}); text values need quotes ("${head!.text}")`;
    else hint = `the namespaces are ${QUERY_NAMESPACES.join(', ')}`;
    fail(this.source, t.pos, `unknown field '${shown}' at position ${t.pos}: fields are ${VALID_FIELDS_TEXT}`, hint);
  }
}

function isDateField(o: Operand): boolean {
  return o.type === 'field' && o.ns === 'record' && o.key === 'date';
}

function isTextOp(op: CompareOp): boolean {
  return op === '~' || op === '!~' || op === 'contains';
}

/** Parses a `--where` expression into its AST; throws MvmError BAD_EXPRESSION (with `position`) on bad input. */
export function parseQuery(source: string): Expr {
  return new Parser(source, tokenize(source)).parse();
}

// ---------------------------------------------------------------------------
// Evaluation

type Getter = (r: QueryRecord) => QueryValue | undefined;
type Predicate = (r: QueryRecord) => boolean;

function getter(o: Operand): Getter {
  if (o.type === 'literal') {
    const v = o.value;
    return () => v;
  }
  if (o.ns === 'record') {
    switch (o.key) {
      case 'id':
        return (r) => r.id;
      case 'number':
        return (r) => r.number;
      case 'author':
        return (r) => r.author;
      case 'date':
        return (r) => r.date;
      case 'message':
        return (r) => r.message;
    }
  }
  const ns = o.ns;
  const key = o.key;
  return (r) => {
    const bag = r[ns];
    if (bag == null || !Object.hasOwn(bag, key)) return undefined;
    const v = bag[key];
    return v === null ? undefined : v;
  };
}

/** Compares two present values: same types natively; mixed types equal only by text form, never ordered. */
function compareValues(op: CompareOp, a: QueryValue, b: QueryValue): boolean {
  const ta = typeof a;
  if (ta === typeof b && ta !== 'boolean') {
    switch (op) {
      case '=':
        return a === b;
      case '!=':
        return a !== b;
      case '<':
        return a < b;
      case '<=':
        return a <= b;
      case '>':
        return a > b;
      case '>=':
        return a >= b;
      default:
        return false;
    }
  }
  const same = ta === typeof b ? a === b : String(a) === String(b);
  if (op === '=') return same;
  if (op === '!=') return !same;
  return false;
}

function compileCompare(e: Expr & { type: 'compare' }): Predicate {
  const { op, left, right } = e;
  const get = getter(left);

  if (op === '~' || op === '!~') {
    if (right.type !== 'literal' || typeof right.value !== 'string') {
      throw new MvmError('BAD_EXPRESSION', `'${op}' needs a string regular expression on its right`, { position: e.pos });
    }
    const re = new RegExp(right.value);
    const want = op === '~';
    return (r) => {
      const v = get(r);
      return v !== undefined && re.test(String(v)) === want;
    };
  }

  if (op === 'contains') {
    const getB = getter(right);
    return (r) => {
      const a = get(r);
      if (a === undefined) return false;
      const b = getB(r);
      return b !== undefined && String(a).includes(String(b));
    };
  }

  if (isDateField(left) && right.type === 'literal' && typeof right.value === 'string') {
    const span = parseDateSpan(right.value);
    if (span === null) {
      throw new MvmError('BAD_EXPRESSION', `invalid date ${JSON.stringify(right.value)}`, { position: right.pos });
    }
    const { lo, hi } = span;
    const test = dateTest(op, lo, hi);
    return (r) => {
      const t = Date.parse(r.date);
      return !Number.isNaN(t) && test(t);
    };
  }

  if (right.type === 'literal') {
    const b = right.value;
    return (r) => {
      const a = get(r);
      return a !== undefined && compareValues(op, a, b);
    };
  }
  const getB = getter(right);
  return (r) => {
    const a = get(r);
    if (a === undefined) return false;
    const b = getB(r);
    return b !== undefined && compareValues(op, a, b);
  };
}

/** A test of a timestamp against the period [lo, hi) a date literal names. */
function dateTest(op: CompareOp, lo: number, hi: number): (t: number) => boolean {
  switch (op) {
    case '=':
      return (t) => t >= lo && t < hi;
    case '!=':
      return (t) => t < lo || t >= hi;
    case '<':
      return (t) => t < lo;
    case '<=':
      return (t) => t < hi;
    case '>':
      return (t) => t >= hi;
    case '>=':
      return (t) => t >= lo;
    default:
      return () => false;
  }
}

function compileExpr(e: Expr): Predicate {
  switch (e.type) {
    case 'and': {
      const fs = e.args.map(compileExpr);
      if (fs.length === 2) {
        const [a, b] = fs as [Predicate, Predicate];
        return (r) => a(r) && b(r);
      }
      return (r) => {
        for (let i = 0; i < fs.length; i++) if (!fs[i]!(r)) return false;
        return true;
      };
    }
    case 'or': {
      const fs = e.args.map(compileExpr);
      if (fs.length === 2) {
        const [a, b] = fs as [Predicate, Predicate];
        return (r) => a(r) || b(r);
      }
      return (r) => {
        for (let i = 0; i < fs.length; i++) if (fs[i]!(r)) return true;
        return false;
      };
    }
    case 'not': {
      const f = compileExpr(e.arg);
      return (r) => !f(r);
    }
    case 'exists': {
      const get = getter(e.field);
      return (r) => get(r) !== undefined;
    }
    case 'compare':
      return compileCompare(e);
  }
}

const compiledCache = new WeakMap<Expr, Predicate>();

/** Evaluates a parsed expression against one record (the compiled form is cached per AST object). */
export function evaluate(expr: Expr, rec: QueryRecord): boolean {
  let f = compiledCache.get(expr);
  if (f === undefined) {
    f = compileExpr(expr);
    compiledCache.set(expr, f);
  }
  return f(rec);
}

/** Parses and compiles a `--where` expression once into a fast predicate over records. */
export function compileQuery(source: string): (rec: QueryRecord) => boolean {
  return compileExpr(parseQuery(source));
}

/** The metric/param/meta fields an expression references, so an index can prefilter (e.g. [{ns:'metrics', key:'accuracy'}]). */
export function referencedFields(expr: Expr): { ns: string; key: string }[] {
  const out: { ns: string; key: string }[] = [];
  const seen = new Set<string>();
  const add = (o: Operand): void => {
    if (o.type !== 'field' || o.ns === 'record') return;
    const id = `${o.ns}\u0000${o.key}`;
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ ns: o.ns, key: o.key });
  };
  const walk = (e: Expr): void => {
    switch (e.type) {
      case 'and':
      case 'or':
        e.args.forEach(walk);
        return;
      case 'not':
        walk(e.arg);
        return;
      case 'exists':
        add(e.field);
        return;
      case 'compare':
        add(e.left);
        add(e.right);
        return;
    }
  };
  walk(expr);
  return out;
}

// ---------------------------------------------------------------------------
// Printing

const PLAIN_KEY = /^[A-Za-z0-9_][A-Za-z0-9_-]*(?:\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$/;

/** Quotes a string so the lexer reads back exactly the same value. */
function quote(s: string): string {
  let out = '"';
  for (const ch of s) {
    if (ch === '\\' || ch === '"') out += `\\${ch}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\r') out += '\\r';
    else if (ch < ' ' || ch === '\u007f') out += `\\u${ch.charCodeAt(0).toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

function formatOperand(o: Operand): string {
  if (o.type === 'literal') return typeof o.value === 'string' ? quote(o.value) : String(o.value);
  if (o.ns === 'record') return o.key === 'number' ? 'version' : o.key;
  return PLAIN_KEY.test(o.key) ? `${o.ns}.${o.key}` : `${o.ns}[${quote(o.key)}]`;
}

/** Renders an AST back to canonical query text, fully parenthesised; it parses to an equivalent AST. */
export function formatQuery(expr: Expr): string {
  switch (expr.type) {
    case 'and':
    case 'or':
      return `(${expr.args.map(formatQuery).join(` ${expr.type} `)})`;
    case 'not':
      return `not ${formatQuery(expr.arg)}`;
    case 'exists':
      return `exists(${formatOperand(expr.field)})`;
    case 'compare':
      return `${formatOperand(expr.left)} ${OP_TEXT[expr.op]} ${formatOperand(expr.right)}`;
  }
}
