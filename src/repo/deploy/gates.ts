import { MvmError } from '../../errors.js';
import { displayNumber } from '../../core/display.js';
import { metricDirection } from '../../core/metrics.js';
import { suggest } from '../../core/suggest.js';
import type { Expr, Operand } from '../../core/query/ast.js';
import { queryRecord, type VersionSummary } from '../history/index.js';

/** The gates of a deployment: conditions in the `--where` language, and a metric to beat. */
export interface Gates {
  require: string[];
  betterThanCurrent?: string;
  /** Direction of betterThanCurrent; inferred from the metric's name when absent. */
  direction?: 'higher' | 'lower';
}

/** One condition that stopped a version, and by how much when it can be said. */
export interface GateFailure {
  gate: string;
  message: string;
  value?: number | string | boolean | null;
  /** How far the value falls short of the bound (always >= 0), for numeric comparisons. */
  shortBy?: number;
}

/** The outcome of checking gates: the conditions that held, and those that did not. */
export interface GateReport {
  passed: string[];
  failed: GateFailure[];
}

const NUMERIC_OPS = new Set(['<', '<=', '>', '>=', '=']);

function operandText(o: Operand): string {
  return o.type === 'literal' ? JSON.stringify(o.value) : o.ns === 'record' ? o.key : `${o.ns}.${o.key}`;
}

/** The value a field operand has in a summary (metrics overlaid by annotations), or undefined. */
function fieldValue(s: VersionSummary, o: Operand): number | string | boolean | undefined {
  if (o.type !== 'field' || o.ns === 'record') return undefined;
  const v = (o.ns === 'metrics' ? s.metrics : o.ns === 'params' ? s.params : s.meta)[o.key];
  return v;
}

/** Explains why a single comparison is false, with the shortfall for `field OP number`. */
function explain(expr: Expr, text: string, s: VersionSummary): GateFailure {
  if (expr.type === 'compare' && NUMERIC_OPS.has(expr.op)) {
    const [field, lit, op] =
      expr.left.type === 'field' && expr.right.type === 'literal'
        ? [expr.left, expr.right, expr.op]
        : expr.right.type === 'field' && expr.left.type === 'literal'
          ? [expr.right, expr.left, ({ '<': '>', '<=': '>=', '>': '<', '>=': '<=', '=': '=' } as const)[expr.op as '<']]
          : [null, null, null];
    if (field && lit) {
      const name = operandText(field);
      const v = fieldValue(s, field);
      if (v === undefined) return { gate: text, message: `${name} is not recorded for this version`, value: null };
      if (typeof v === 'number' && typeof lit.value === 'number') {
        const shortBy = Math.abs(v - lit.value);
        return {
          gate: text,
          message:
            `${name} is ${displayNumber(v)}, needs ${op} ${displayNumber(lit.value)} ` +
            `(${op === '=' ? 'off' : 'short'} by ${displayNumber(shortBy)})`,
          value: v,
          shortBy,
        };
      }
      return {
        gate: text,
        message: `${name} is ${JSON.stringify(v)}, needs ${op} ${JSON.stringify(lit.value)}`,
        value: v,
      };
    }
  }
  return { gate: text, message: `${text} does not hold for this version` };
}

/**
 * Checks a candidate version against the gates. Each `require` expression is
 * split at its top-level `and`s so every failing condition is named on its
 * own. `betterThanCurrent` compares the metric with the version the env
 * serves now (nothing deployed: it passes).
 */
export async function checkGates(
  gates: Gates,
  candidate: VersionSummary,
  current: VersionSummary | null,
): Promise<GateReport> {
  // lazy, for start-up: loading the query engine (re2js) took 40-60 ms more than a leaf module
  // (dist/core/query/index.js against dist/errors.js, 2026-12-07, a busy 2-core machine); only a query needs it
  const { parseQuery, evaluate, formatQuery } = await import('../../core/query/index.js');
  const report: GateReport = { passed: [], failed: [] };
  const rec = queryRecord(candidate);
  for (const source of gates.require) {
    const expr = parseQuery(source);
    const parts = expr.type === 'and' ? expr.args : [expr];
    for (const part of parts) {
      const text = parts.length > 1 ? formatQuery(part) : source.trim();
      if (evaluate(part, rec)) report.passed.push(text);
      else report.failed.push(explain(part, text, candidate));
    }
  }
  const metric = gates.betterThanCurrent;
  if (metric) {
    const direction = gates.direction ?? metricDirection(metric) ?? 'higher';
    const gate = `${metric} better than the current version (${direction} is better)`;
    // own keys only: a metric named toString is not Object.prototype's
    const v = Object.hasOwn(candidate.metrics, metric) ? candidate.metrics[metric] : undefined;
    const c = current && Object.hasOwn(current.metrics, metric) ? current.metrics[metric] : undefined;
    if (typeof v !== 'number')
      report.failed.push({ gate, message: `metrics.${metric} is not recorded for this version`, value: v ?? null });
    else if (!current) report.passed.push(`${gate}: nothing deployed yet`);
    else if (typeof c !== 'number') report.passed.push(`${gate}: the current version has no ${metric}`);
    else if (direction === 'higher' ? v > c : v < c) report.passed.push(gate);
    else {
      report.failed.push({
        gate,
        message:
          `metrics.${metric} is ${displayNumber(v)}, the current version v${current.number} has ${displayNumber(c)} (` +
          `${v === c ? 'equal' : `worse by ${displayNumber(Math.abs(v - c))}`})`,
        value: v,
        shortBy: Math.abs(v - c),
      });
    }
  }
  return report;
}

/** Throws GATE_FAILED listing every failed condition. */
export function assertGates(report: GateReport, label: string, env: string): void {
  if (!report.failed.length) return;
  const lines = report.failed.map((f) => f.message).join('; ');
  throw new MvmError('GATE_FAILED', `${label} does not pass the gates of '${env}': ${lines}`, {
    env,
    failed: report.failed,
    passed: report.passed,
    hint: '--no-gates deploys it anyway; the deploy log records that',
  });
}

/**
 * Refuses a gate naming a field no version has when a field some version has is close to it (a typo:
 * `metrics.acurracy`, `--better-than-current acc`): BAD_ARGUMENT with `data.suggestions`. A field nothing is close to
 * is let through: it may be a metric later versions will record (a deploy then fails the gate, naming it).
 */
export async function assertGateNames(
  gates: Partial<Gates>,
  versions: () => Promise<Iterable<VersionSummary>>,
  flags: { require: string; betterThanCurrent: string },
): Promise<void> {
  // no gate, nothing to read: a plain deploy does not load the summaries for this
  if (!gates.require?.length && !gates.betterThanCurrent) return;
  const summaries = await versions();
  const known: Record<string, Set<string>> = { metrics: new Set(), params: new Set(), meta: new Set() };
  for (const v of summaries) {
    for (const k of Object.keys(v.metrics)) known.metrics!.add(k);
    for (const k of Object.keys(v.params)) known.params!.add(k);
    for (const k of Object.keys(v.meta)) known.meta!.add(k);
  }
  const typo = (flag: string, name: string, shown: string, suggestions: string[]) =>
    new MvmError(
      'BAD_ARGUMENT',
      `${flag} names ${shown}, which no version has (did you mean ${suggestions.map((x) => `'${x}'`).join(' or ')}?)`,
      { field: name, suggestions, hint: "fix the name; 'mvm log' shows the metrics each version has" },
    );
  if (gates.require?.length) {
    const { parseQuery, referencedFields } = await import('../../core/query/index.js');
    for (const source of gates.require) {
      for (const f of referencedFields(parseQuery(source))) {
        if (known[f.ns]?.has(f.key)) continue;
        // keys close to it in its own namespace first, then the same or a close key in another one
        const close = new Set<string>();
        for (const ns of [f.ns, ...Object.keys(known).filter((n) => n !== f.ns)]) {
          if (ns !== f.ns && known[ns]!.has(f.key)) close.add(`${ns}.${f.key}`);
          for (const k of suggest(f.key, known[ns]!)) close.add(`${ns}.${k}`);
        }
        const name = `${f.ns}.${f.key}`;
        if (close.size) throw typo(flags.require, name, name, [...close].slice(0, 3));
      }
    }
  }
  const metric = gates.betterThanCurrent;
  if (metric && !known.metrics!.has(metric)) {
    const close = suggest(metric, known.metrics!);
    if (close.length) throw typo(flags.betterThanCurrent, metric, `metric '${metric}'`, close);
  }
}
