/** Printing of the query language: an AST back to canonical query text. */
import type { CompareOp, Expr, Operand } from './ast.js';

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
