/**
 * The query AST and the record it is evaluated against: plain data types,
 * the namespace and field-name lists, and the small predicates every layer uses.
 */

/** The fields of a version that queries can see. */
export interface QueryRecord {
  /** Version id (hex). */
  id: string;
  /** The short number N of vN; `version` in queries (null: not numbered by the registry yet). */
  number: number | null;
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

/** Whether an operand is the top-level `date` field (compared as time, not text). */
export function isDateField(o: Operand): boolean {
  return o.type === 'field' && o.ns === 'record' && o.key === 'date';
}
