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
 *
 * This module is the language's public API. The files behind it are layered,
 * each importing only earlier ones: ast, errors, dates; tokens; fields; parser;
 * compiler and format.
 */
export type { QueryRecord } from './ast.js';
export { compileQuery, evaluate } from './compiler.js';
export { formatQueryError } from './errors.js';
export { referencedFields } from './fields.js';
export { formatQuery } from './format.js';
export { parseQuery } from './parser.js';
