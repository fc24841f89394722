/**
 * The parser of the query language: tokens to the plain-data AST, with every syntax and field error reported by
 * position.
 */
import { isDateField, type CompareOp, type Expr, type Operand } from './ast.js';
import { parseDateSpan } from './dates.js';
import { fail } from './errors.js';
import { isVersionPath, resolveField } from './fields.js';
import { tokenize, type Token } from './tokens.js';
import { compileRegex } from './regex.js';

/** Deepest nesting of parentheses / `not` accepted, so hostile input cannot overflow the stack. */
const MAX_DEPTH = 256;

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
      fail(
        this.source,
        t.pos,
        `unexpected ')' at position ${t.pos}: no matching '('`,
        "remove it or add the missing '('",
      );
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
    return this.parseJoined('or', () => this.parseAnd());
  }

  private parseAnd(): Expr {
    return this.parseJoined('and', () => this.parseUnary());
  }

  /** Parses `operand (kind operand)*`: the operand alone, or an n-ary `kind` node over all of them. */
  private parseJoined(kind: 'or' | 'and', operand: () => Expr): Expr {
    const args = [operand()];
    while (this.peek().t === kind) {
      this.next();
      args.push(operand());
    }
    return args.length === 1 ? args[0]! : { type: kind, args };
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
      fail(
        this.source,
        t.pos,
        `expected a field before '${this.text(t)}' at position ${t.pos}`,
        'write e.g. metrics.accuracy > 0.9',
      );
    }
    fail(
      this.source,
      t.pos,
      `expected a condition${after} at position ${t.pos}${found}`,
      'write e.g. metrics.accuracy > 0.9',
    );
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
          fail(
            this.source,
            open.pos,
            `expected '(' after 'exists' at position ${open.pos}`,
            'write exists(metrics.f1)',
          );
        }
        this.next();
        const f = this.peek();
        if (f.t !== 'path') {
          fail(
            this.source,
            f.pos,
            `expected a field inside exists() at position ${f.pos}`,
            'write exists(metrics.f1), without quotes',
          );
        }
        this.next();
        const field = resolveField(this.source, f);
        const close = this.peek();
        if (close.t !== 'rparen') {
          fail(
            this.source,
            close.pos,
            `expected ')' after the field in exists() at position ${close.pos}`,
            'write exists(metrics.f1)',
          );
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
    if (
      rightTok.t !== 'path' &&
      rightTok.t !== 'num' &&
      rightTok.t !== 'str' &&
      rightTok.t !== 'true' &&
      rightTok.t !== 'false'
    ) {
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
    const leftIsVersion = isVersionPath(leftTok);
    const rightIsVersion = isVersionPath(rightTok);
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
        compileRegex(right.value);
      } catch (e) {
        const why = (e as Error).message.replace(/^error parsing regexp: /, '');
        fail(
          this.source,
          right.pos,
          `invalid regular expression ${JSON.stringify(right.value)} at position ${right.pos}: ${why}`,
          'regexes use RE2 syntax (as JavaScript, without backreferences or lookaround); escape special characters ' +
            'with a backslash',
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
        return resolveField(this.source, t);
      }
      default:
        throw new Error('unreachable');
    }
  }
}

function isTextOp(op: CompareOp): boolean {
  return op === '~' || op === '!~' || op === 'contains';
}

/** Parses a `--where` expression into its AST; throws MvmError BAD_EXPRESSION (with `position`) on bad input. */
export function parseQuery(source: string): Expr {
  return new Parser(source, tokenize(source)).parse();
}
