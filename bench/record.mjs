// Benchmark records: one JSON file per run under bench/results/ (run-NN.json), which docs/BENCHMARKS.md links to.
// `parseOutput` reads what a bench printed (its `- key: value` header lines, markdown tables under their
// headings, PASS/MISS bar lines); `recordRun` turns that into the next record (a bench's --record flag);
// `node bench/record.mjs [SECTION]` prints the runs of a section, oldest first, or the list of sections.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RESULTS = join(dirname(fileURLToPath(import.meta.url)), 'results');

/** The cells of a markdown table row. */
const cells = (line) =>
  line
    .trim()
    .replace(/^\|/, '')
    .replace(/\|$/, '')
    .split('|')
    .map((c) => c.trim());

/** The tables of some markdown text, each under its nearest heading, as arrays of row objects keyed by the header. */
export function parseTables(text) {
  const lines = text.split('\n');
  const tables = [];
  let heading = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const next = lines[i + 1] ?? '';
    if (!line.startsWith('|') || !/^\|[\s:|-]+\|$/.test(next.trim()) || !next.includes('-')) continue;
    const seen = new Map();
    const columns = cells(line).map((c) => {
      const n = (seen.get(c) ?? 0) + 1;
      seen.set(c, n);
      return n > 1 ? `${c} (${n})` : c;
    });
    const rows = [];
    for (i += 2; i < lines.length && lines[i].startsWith('|'); i++) {
      const row = {};
      cells(lines[i]).forEach((v, k) => {
        row[columns[k] ?? `column ${k + 1}`] = v;
      });
      rows.push(row);
    }
    i--;
    tables.push({ heading, columns, rows });
  }
  return tables;
}

/** PASS/MISS lines: `- PASS [tag] text` (run.mjs) or `- PASS text` (the section scripts). */
export function parseBars(text) {
  const bars = [];
  for (const m of text.matchAll(/^- (PASS|MISS) (?:\[([^\]]+)\] )?(.*)$/gm)) {
    bars.push({ result: m[1], ...(m[2] ? { tag: m[2] } : {}), text: m[3] });
  }
  return bars;
}

/** The section of a bench's output heading (`## Core store: ...`, `# mvm fine-tune benchmark`), or null. */
export function sectionOf(heading) {
  const rules = [
    [/^Core store/, 'core'],
    [/^Memory flatness/, 'memory'],
    [/^Model-aware storage/, 'model-aware'],
    [/^Know your versions/, 'versions'],
    [/^Peers/, 'peers'],
    [/^mvm fine-tune benchmark/, 'finetune'],
    [/^mvm float benchmark/, 'floats'],
    [/^mvm start-up benchmark/, 'startup'],
    [/^mvm scale benchmark/, 'scale'],
    [/tensors in one safetensors file/, 'tensors'],
    [/^mvm real-model benchmark/, 'real'],
  ];
  const remotes = /^Remotes: ([\d.]+) GiB/.exec(heading);
  if (remotes) return `remotes-${Math.round(Number(remotes[1]))}gib`;
  return rules.find(([re]) => re.test(heading))?.[1] ?? null;
}

/** What one bench printed: header fields, sections, tables and bars. */
export function parseOutput(text) {
  const field = (name) => new RegExp(`^- ${name}: (.*)$`, 'm').exec(text)?.[1] ?? null;
  const headings = [...text.matchAll(/^#{1,6} (.*)$/gm)].map((m) => m[1]);
  const sections = [...new Set(headings.map(sectionOf).filter(Boolean))];
  return {
    started: field('date'),
    machine: field('machine'),
    command: field('command'),
    sections,
    tables: parseTables(text),
    bars: parseBars(text),
  };
}

/** The records in bench/results, oldest first. */
export function readRecords(dir = RESULTS) {
  let names = [];
  try {
    names = readdirSync(dir).filter((n) => /^run-\d+\.json$/.test(n));
  } catch {
    return [];
  }
  return names.map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8'))).sort((a, b) => a.run - b.run);
}

/** The file name of run `n`'s record. */
export const recordName = (n) => `run-${String(n).padStart(2, '0')}.json`;

/**
 * Writes what a bench printed as the next record (its notes left for the page's author to fill in) and returns
 * its path. `section` names the bench when its output has no heading that says (registry, tensors, scale).
 */
export function recordRun(output, { command, section } = {}) {
  const parsed = parseOutput(output);
  const run = Math.max(0, ...readRecords().map((r) => r.run)) + 1;
  const record = {
    run,
    title: null,
    date: new Date().toISOString().slice(0, 10),
    machine: parsed.machine,
    sections: parsed.sections.length ? parsed.sections : [section].filter(Boolean),
    command: parsed.command ?? command ?? null,
    tables: parsed.tables,
    bars: parsed.bars,
    output: [output],
    notes: '',
  };
  mkdirSync(RESULTS, { recursive: true });
  const path = join(RESULTS, recordName(run));
  writeFileSync(path, JSON.stringify(record, null, 2) + '\n');
  return path;
}

/**
 * With --record among the arguments, copies everything the process writes to stdout and, when it exits,
 * writes it as the next record. What the bench prints is unchanged.
 */
export function recordIfAsked(argv, opts = {}) {
  if (!argv.includes('--record')) return;
  const chunks = [];
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = (chunk, ...rest) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return write(chunk, ...rest);
  };
  process.on('exit', (code) => {
    if (code === 0) process.stderr.write(`recorded: ${recordRun(chunks.join(''), opts)}\n`);
  });
}

/** `node bench/record.mjs [SECTION]`: the history of one section, or the sections there are. */
function main() {
  const records = readRecords();
  const section = process.argv[2];
  if (!section) {
    const all = [...new Set(records.flatMap((r) => r.sections))].sort();
    for (const s of all) {
      const runs = records.filter((r) => r.sections.includes(s)).map((r) => r.run);
      console.log(`${s}: runs ${runs.join(', ')}`);
    }
    return;
  }
  for (const r of records.filter((x) => x.sections.includes(section))) {
    const passed = r.bars.filter((b) => b.result === 'PASS').length;
    console.log(`\n## Run ${r.run} (${r.date})${r.title ? `: ${r.title}` : ''}`);
    console.log(`machine: ${r.machine ?? 'not recorded'}`);
    if (r.command) console.log(`command: ${r.command}`);
    if (r.bars.length) console.log(`bars: ${passed} of ${r.bars.length} PASS`);
    for (const b of r.bars) console.log(`  ${b.result} ${b.tag ? `[${b.tag}] ` : ''}${b.text}`);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) main();
