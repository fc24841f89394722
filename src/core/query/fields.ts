/**
 * Field names of the query language: how a path token resolves to a field of
 * the record (with the error for unknown names), and which keyed fields an
 * expression references.
 */
import { QUERY_NAMESPACES, type Expr, type FieldRef, type Namespace, type Operand, type RecordField } from './ast.js';
import { fail } from './errors.js';
import type { Token } from './tokens.js';

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

/** Whether a token is the bare `version` field (or its alias `number`), next to which `vN` means the number N. */
export function isVersionPath(t: Token): boolean {
  return (
    t.t === 'path' &&
    t.segs.length === 1 &&
    !t.segs[0]!.quoted &&
    RECORD_FIELD_BY_NAME[t.segs[0]!.text.toLowerCase()] === 'number'
  );
}

/** Resolves a path token to the field it names; throws BAD_EXPRESSION (with a hint) for unknown or malformed fields. */
export function resolveField(source: string, t: Token & { t: 'path' }): FieldRef {
  const [head, ...rest] = t.segs;
  const name = head!.text.toLowerCase();
  const shown = source.slice(t.pos, t.end);
  if ((QUERY_NAMESPACES as readonly string[]).includes(name)) {
    if (rest.length === 0) {
      fail(source, t.end, `expected a key after '${head!.text}' at position ${t.end}`, `write e.g. ${name}.accuracy`);
    }
    const key = rest.map((s) => s.text).join('.');
    if (rest.some((s) => s.text === '')) {
      const empty = rest.find((s) => s.text === '')!;
      fail(source, empty.pos, `empty key at position ${empty.pos}`, 'keys cannot be empty');
    }
    return { type: 'field', ns: name as Namespace, key, pos: t.pos };
  }
  const recordField = RECORD_FIELD_BY_NAME[name];
  if (recordField !== undefined) {
    if (rest.length > 0) {
      const p = rest[0]!.pos - 1;
      fail(source, p, `field '${head!.text}' has no keys, at position ${p}`, `write just ${name}`);
    }
    return { type: 'field', ns: 'record', key: recordField, pos: t.pos };
  }
  const alias = NAMESPACE_ALIASES[name];
  let hint: string;
  if (alias !== undefined && rest.length > 0) hint = `did you mean ${alias}.${rest.map((s) => s.text).join('.')}?`;
  else if (rest.length === 0)
    hint = `keys need a namespace (metrics.${head!.text}); text values need quotes ("${head!.text}")`;
  else hint = `the namespaces are ${QUERY_NAMESPACES.join(', ')}`;
  fail(source, t.pos, `unknown field '${shown}' at position ${t.pos}: fields are ${VALID_FIELDS_TEXT}`, hint);
}

/**
 * The metric/param/meta fields an expression references, so an index can prefilter (e.g. [{ns:'metrics',
 * key:'accuracy'}]).
 */
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
