/** Date literals of the query language: an ISO-8601 literal names a period of time, compared against `date`. */

/** A half-open interval [lo, hi) of epoch milliseconds: the period a date literal names. */
export interface DateSpan {
  lo: number;
  hi: number;
}

const DATE_RE =
  /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}(?::?\d{2})?)?)?)?)?$/i;

/** Parses an ISO-8601 date literal into the period it names; null when it is not a valid date. */
export function parseDateSpan(text: string): DateSpan | null {
  const m = DATE_RE.exec(text.trim());
  if (!m) return null;
  const year = Number(m[1]);
  const month = m[2] === undefined ? undefined : Number(m[2]);
  const day = m[3] === undefined ? undefined : Number(m[3]);
  const hour = m[4] === undefined ? undefined : Number(m[4]);
  const minute = m[5] === undefined ? undefined : Number(m[5]);
  const second = m[6] === undefined ? undefined : Number(m[6]);
  const frac = m[7];
  const zone = m[8];
  if (month !== undefined && (month < 1 || month > 12)) return null;
  if (day !== undefined) {
    const dim = new Date(Date.UTC(year, month!, 0)).getUTCDate();
    if (day < 1 || day > dim) return null;
  }
  if (hour !== undefined && hour > 23) return null;
  if (minute !== undefined && minute > 59) return null;
  if (second !== undefined && second > 59) return null;
  let offsetMs = 0;
  if (zone !== undefined && zone.toUpperCase() !== 'Z') {
    const z = /^([+-])(\d{2}):?(\d{2})?$/.exec(zone)!;
    const oh = Number(z[2]);
    const om = z[3] === undefined ? 0 : Number(z[3]);
    if (oh > 23 || om > 59) return null;
    offsetMs = (z[1] === '-' ? -1 : 1) * (oh * 60 + om) * 60_000;
  }
  const ms = frac === undefined ? 0 : Math.floor(Number(`0.${frac}`) * 1000);
  // Literals without a zone are UTC, so results never depend on the machine's timezone.
  const lo = Date.UTC(year, (month ?? 1) - 1, day ?? 1, hour ?? 0, minute ?? 0, second ?? 0, ms) - offsetMs;
  let hi: number;
  if (month === undefined) hi = Date.UTC(year + 1, 0, 1);
  else if (day === undefined) hi = Date.UTC(year, month, 1);
  else if (hour === undefined) hi = lo + 86_400_000;
  else if (second === undefined) hi = lo + 60_000;
  else if (frac === undefined) hi = lo + 1000;
  else hi = lo + 1;
  return { lo, hi };
}

const UNIT_MS: Record<string, number> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  week: 7 * 86_400_000,
};

/**
 * A relative date as `--since` / `--until` take it, against `now`: `now`,
 * `today` and `yesterday` (midnight UTC), `N seconds|minutes|hours|days|weeks|months|years ago`
 * (months and years by the calendar). Null when the text is not one.
 */
export function parseRelativeDate(text: string, now: Date): Date | null {
  const t = text.trim().toLowerCase();
  if (t === 'now') return new Date(now.getTime());
  const midnight = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  if (t === 'today') return new Date(midnight);
  if (t === 'yesterday') return new Date(midnight - 86_400_000);
  const m = /^(\d{1,6}|an?|one)\s+(second|minute|hour|day|week|month|year)s?\s+ago$/.exec(t);
  if (!m) return null;
  const n = /^\d/.test(m[1]!) ? Number(m[1]) : 1;
  const unit = m[2]!;
  if (unit === 'month' || unit === 'year') {
    const d = new Date(now.getTime());
    d.setUTCMonth(d.getUTCMonth() - (unit === 'year' ? 12 * n : n));
    return d;
  }
  return new Date(now.getTime() - n * UNIT_MS[unit]!);
}
