import { MvmError } from '../../errors.js';
import { displayNumber } from '../../core/display.js';
import { envCurrent, type Ranking, type VersionSummary } from '../history/index.js';
import type { Repository } from '../repository/index.js';
import { envConfig } from './envConfig.js';
import { checkGates, type GateFailure, type Gates } from './gates.js';
import { moveGates } from './release.js';

/** A candidate `deploy --best` passed over, and the gates it failed. */
export interface SkippedCandidate {
  id: string;
  number: number | null;
  value: number;
  failed: GateFailure[];
}

/** The version `deploy --best` chose: its place in the ranking and the better-ranked ones its gates refused. */
export interface BestPick {
  id: string;
  number: number | null;
  metric: string;
  value: number;
  direction: 'higher' | 'lower';
  /** How many versions were ranked. */
  candidates: number;
  /** The better-ranked versions the gates refused, best first. */
  skipped: SkippedCandidate[];
}

/** How many refused candidates the error's message names (`data.skipped` holds up to SKIPPED_KEPT). */
const SKIPPED_SAID = 3;
const SKIPPED_KEPT = 10;

const label = (s: { id: string; number: number | null }) => (s.number ? `v${s.number}` : s.id.slice(0, 12));

/** One refused candidate in words: `v9 (accuracy 0.95): metrics.loss is 0.4, needs <= 0.3 (short by 0.1)`. */
function skippedText(metric: string, c: SkippedCandidate): string {
  return `${label(c)} (${metric} ${displayNumber(c.value)}): ${c.failed.map((f) => f.message).join('; ')}`;
}

/**
 * Walks a ranking best first and picks the first version that passes the env's gates (stored ones and `extra`, as a
 * deploy checks them; `noGates`: the best). The version the env serves is checked too (so with a better-than-current
 * gate it never passes: it does not beat itself) and the walk stops there: `--best` never deploys a version that
 * ranks below what the env serves. None passing is GATE_FAILED with the refused candidates in `data.skipped`.
 */
export async function pickBestPassing(
  repo: Repository,
  env: string,
  ranking: Ranking,
  opts: { gates?: Partial<Gates>; noGates?: boolean; scope: string },
): Promise<BestPick> {
  const gates = moveGates(envConfig(repo, env), opts.gates);
  const gated = !opts.noGates && (gates.require.length > 0 || !!gates.betterThanCurrent);
  const currentId = envCurrent(repo, env);
  const current = currentId ? (ranking.summaries.get(currentId) ?? null) : null;
  const value = (s: VersionSummary) => s.metrics[ranking.metric] as number;
  const skipped: SkippedCandidate[] = [];
  let stoppedAt: VersionSummary | null = null;
  for (const s of ranking.ranked) {
    const report = gated ? await checkGates(gates, s, current) : null;
    if (!report?.failed.length)
      return {
        id: s.id,
        number: s.number,
        metric: ranking.metric,
        value: value(s),
        direction: ranking.direction,
        candidates: ranking.ranked.length,
        skipped,
      };
    skipped.push({ id: s.id, number: s.number, value: value(s), failed: report.failed });
    if (s.id === currentId) {
      stoppedAt = s;
      break;
    }
  }
  const above = stoppedAt ? skipped.slice(0, -1) : skipped;
  const said = above.slice(0, SKIPPED_SAID).map((c) => skippedText(ranking.metric, c));
  if (above.length > SKIPPED_SAID) said.push(`and ${above.length - SKIPPED_SAID} more`);
  if (stoppedAt && !above.length) said.push('none ranks above it');
  if (stoppedAt)
    said.push(
      `${label(stoppedAt)} itself: ${skipped
        .at(-1)!
        .failed.map((f) => f.message)
        .join('; ')}`,
    );
  const what = stoppedAt
    ? `no version ${opts.scope} ranked above ${label(stoppedAt)} by ${ranking.metric} (${env} serves it: ` +
      `${displayNumber(value(stoppedAt))}) passes the gates of '${env}'`
    : `no version ${opts.scope} with metric ${ranking.metric} passes the gates of '${env}'`;
  throw new MvmError('GATE_FAILED', `${what}: ${said.join('; ')}`, {
    env,
    metric: ranking.metric,
    direction: ranking.direction,
    candidates: ranking.ranked.length,
    current: currentId,
    skipped: skipped.slice(0, SKIPPED_KEPT),
    hint: stoppedAt
      ? `train a better version; 'mvm deploy vN --env ${env}' deploys a given one`
      : "'--no-gates' deploys the best anyway (logged); 'mvm deploy vN' deploys a given one",
  });
}
