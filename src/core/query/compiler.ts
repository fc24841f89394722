/**
 * The compiler of the query language: an AST to a closure that is cheap to run
 * per record; regular expressions and date literals are prepared once, here.
 */
import { MvmError } from '../../errors.js';
import { isDateField, type CompareOp, type Expr, type Operand, type QueryRecord, type QueryValue } from './ast.js';
import { parseDateSpan } from './dates.js';
import { parseQuery } from './parser.js';
import { compileRegex } from './regex.js';

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
        return (r) => r.number ?? undefined;
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
      throw new MvmError('BAD_EXPRESSION', `'${op}' needs a string regular expression on its right`, {
        position: e.pos,
      });
    }
    // RE2: matching takes time linear in the text, whatever the pattern (no catastrophic backtracking)
    const re = compileRegex(right.value);
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
