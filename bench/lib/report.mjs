// The bench report: progress to stderr, report lines to stdout (kept in `out`), tables and the bars.
const log = (...a) => process.stderr.write(`[bench] ${a.join(' ')}\n`);
const out = [];
function say(line = '') {
  out.push(line);
  process.stdout.write(line + '\n');
}

/** Prints a table: `rows` are arrays of cells (strings). */
function table(title, headers, rows) {
  say('');
  say(`## ${title}`);
  say('');
  const all = [headers, ...rows].map((r) => r.map((c) => String(c)));
  const w = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  // numbers (a cell that starts with a digit) are right-aligned, text left-aligned
  const right = headers.map(
    (_, i) => i > 0 && all.slice(1).every((r) => /^[+-]?[0-9]/.test(r[i] ?? '') || (r[i] ?? '') === ''),
  );
  const line = (r) => '| ' + r.map((c, i) => (right[i] ? c.padStart(w[i]) : c.padEnd(w[i]))).join(' | ') + ' |';
  say(line(all[0]));
  say('|' + w.map((n, i) => (right[i] ? ' ' + '-'.repeat(n - 1) + ': ' : ' ' + '-'.repeat(n) + ' ')).join('|') + '|');
  for (const r of all.slice(1)) say(line(r));
}

/** The bars, in the order they are checked. */
const bars = [];
function bar(section, name, pass, measured, note = '') {
  bars.push({ section, name, pass: !!pass, measured, note });
}

export { log, out, say, table, bars, bar };
