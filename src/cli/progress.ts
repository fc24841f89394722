import type { Progress } from '../repo/repository/index.js';
import { formatBytes } from './format/text.js';

/**
 * A progress bar on stderr, drawn only when stderr is a TTY (and not under
 * --quiet); otherwise every call is a no-op, so output stays scriptable.
 */
export function progressBar(enabled: boolean, unit: 'bytes' | 'items' = 'bytes'): Progress | undefined {
  if (!enabled || !process.stderr.isTTY) return undefined;
  let label = '';
  let total = 0;
  let done = 0;
  let started = 0;
  let last = 0;
  const fmt = (n: number) => (unit === 'bytes' ? formatBytes(n) : String(n));
  const draw = (force = false) => {
    const now = Date.now();
    if (!force && now - last < 100) return;
    last = now;
    const frac = total > 0 ? Math.min(1, done / total) : 0;
    const width = 30;
    const fill = Math.round(frac * width);
    const secs = (now - started) / 1000;
    const rate = secs > 0 && unit === 'bytes' ? `  ${formatBytes(done / secs)}/s` : '';
    const eta = secs > 1 && done > 0 && total > done ? `  ETA ${Math.ceil(((total - done) * secs) / done)} s` : '';
    process.stderr.write(
      `\r${label} [${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${(frac * 100).toFixed(0).padStart(3)}%  ` +
        `${fmt(done)}/${fmt(total)}${rate}${eta}\x1b[K`,
    );
  };
  return {
    start(l, t) {
      label = l;
      total = t;
      done = 0;
      started = Date.now();
      draw(true);
    },
    advance(n) {
      done += n;
      draw();
    },
    done() {
      draw(true);
      process.stderr.write('\n');
    },
  };
}
