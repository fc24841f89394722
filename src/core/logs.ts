import { isObjectId } from './ids.js';

/**
 * Shape checks for the lines of the append-only logs in `.mvm/logs/`. A
 * reader keeps the lines that pass and skips the rest (fsck reports them), so
 * a hand-edited or damaged log never reaches code that trusts its fields.
 */
export const LOG_CHECKS: Record<string, (v: unknown) => boolean> = {
  annotations: (v) => isRecord(v) && isId(v.target) && isId(v.annotation),
  deployed: (v) => isDeployEntry(v),
  signatures: (v) => isRecord(v) && isId(v.target) && isId(v.signature),
  gc: (v) => isRecord(v) && typeof v.time === 'string' && Array.isArray(v.versions) && v.versions.every(isId),
};

/** The shape of a line of an environment's deploy log (`deployed`, `envs/<env>`). */
export function isDeployEntry(v: unknown): boolean {
  return (
    isRecord(v) &&
    typeof v.time === 'string' &&
    typeof v.action === 'string' &&
    ['deploy', 'rollback', 'promote', 'undo'].includes(v.action) &&
    isId(v.to) &&
    (v.from === null || isId(v.from)) &&
    optional(v.who, isString) &&
    optional(v.reason, isString) &&
    optional(v.fromEnv, isString) &&
    optional(v.gates, (g) => g === 'skipped' || (Array.isArray(g) && g.every(isString)))
  );
}

const isString = (v: unknown): boolean => typeof v === 'string';

/** Absent, or passing `check`. */
function optional(v: unknown, check: (v: unknown) => boolean): boolean {
  return v === undefined || check(v);
}

/** The shape check of a log by its name, if it has one. */
export function logCheck(name: string): ((v: unknown) => boolean) | undefined {
  if (name.startsWith('envs/')) return isDeployEntry;
  return Object.hasOwn(LOG_CHECKS, name) ? LOG_CHECKS[name] : undefined;
}

function isId(v: unknown): boolean {
  return typeof v === 'string' && isObjectId(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
