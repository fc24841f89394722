import { isObjectId } from './ids.js';

/**
 * Shape checks for the lines of the append-only logs in `.mvm/logs/`. A
 * reader keeps the lines that pass and skips the rest (fsck reports them), so
 * a hand-edited or damaged log never reaches code that trusts its fields.
 */
export const LOG_CHECKS: Record<string, (v: unknown) => boolean> = {
  annotations: (v) => isRecord(v) && isId(v.target) && isId(v.annotation),
  deployed: (v) => isRecord(v) && typeof v.time === 'string' && (v.action === 'deploy' || v.action === 'rollback') && isId(v.to) && (v.from === null || isId(v.from)),
  gc: (v) => isRecord(v) && typeof v.time === 'string' && Array.isArray(v.versions) && v.versions.every(isId),
};

function isId(v: unknown): boolean {
  return typeof v === 'string' && isObjectId(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return !!v && typeof v === 'object' && !Array.isArray(v);
}
