import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ReportData } from './reportData.js';

/**
 * The report page: one self-contained HTML file. The charting library
 * (Chart.js), the graph library (Cytoscape.js; the page's script lays the
 * graph out itself) and the page's own script and styles are inlined; the data is a JSON block. A
 * Content-Security-Policy forbids every network load, so the file opens the
 * same offline, and nothing a version's message or metric holds can run.
 */

/**
 * The page's own script and styles: `assets/report/` at the package root (beside `src/` and `dist/`). Found when
 * called, not at module load: the start-up snapshot evaluates this module where it was built.
 */
const assetsDir = () => join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'assets', 'report');
/** The parts of the page's script, in the order they run (report.js hands its helpers to the others). */
const SCRIPT_PARTS = ['report.js', 'charts.js', 'lineage.js', 'table.js', 'pair.js', 'live.js'];

/** A library's minified browser build, found next to the entry its package exports. */
function library(pkg: string, file: string): string {
  return readFileSync(join(dirname(createRequire(import.meta.url).resolve(pkg)), file), 'utf8');
}

let cached: { libs: string; script: string; style: string } | null = null;
function assets(): NonNullable<typeof cached> {
  cached ??= {
    libs: [library('chart.js', 'chart.umd.min.js'), library('cytoscape', 'cytoscape.min.js')].join('\n;\n'),
    script: SCRIPT_PARTS.map((part) => readFileSync(join(assetsDir(), part), 'utf8')).join('\n'),
    style: readFileSync(join(assetsDir(), 'report.css'), 'utf8'),
  };
  return cached;
}

/** JSON that can sit inside a script element: no `</script>`, no `<!--`, no line separators that end a line. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/** Inline code: a `</script` inside it would end the element early. */
function inlineScript(code: string): string {
  return code.replace(/<\/(script)/gi, '<\\/$1');
}

/** Escapes text for an HTML text node or attribute. */
function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/**
 * The whole page. `live` (the repository's state stamp when the data was read)
 * adds the polling that reloads the page when the stamp changes (`report --serve`).
 */
export function reportHtml(data: ReportData, opts: { live?: string } = {}): string {
  const a = assets();
  const csp = [
    "default-src 'none'",
    "script-src 'unsafe-inline'",
    "style-src 'unsafe-inline'",
    'img-src data: blob:',
    opts.live !== undefined ? "connect-src 'self'" : null,
  ]
    .filter(Boolean)
    .join('; ');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escapeHtml(data.title)}</title>
<style>${a.style}</style>
</head>
<body>
<header><h1>${escapeHtml(data.title)}</h1><p id="summary"></p><ul id="warnings"></ul></header>
<section id="metrics-section"><h2>Metrics over versions</h2>
<div class="controls"><label>x axis <select id="x-axis"><option value="number">version number</option>
<option value="time">time</option></select></label></div>
<div id="charts"></div></section>
<section id="lineage-section"><h2>Lineage</h2>
<p class="note">Versions in one column per branch, newest at the top; git commits and base models on the left,
each dataset's snapshots on the right. Arrows point to what a version came from: solid to its parent, dotted to an
ancestor outside the report, red dashed to the base model it was tuned from, grey to its data and code (drawn where
a version's differ from its parent's). Point at a node to pick out all its edges. Drag to pan, scroll to zoom.</p>
<div id="lineage"></div></section>
<section id="table-section"><h2>Comparison</h2>
<p class="note">Deltas against the first version. Click a column to sort.</p>
<div class="scroll"><table id="comparison"></table></div></section>
<section id="pair-section"><h2 id="pair-title">Tensor changes</h2><p class="note" id="pair-note"></p>
<div id="pair-chart-box"><canvas id="pair-chart"></canvas></div></section>
<script type="application/json" id="mvm-data">${scriptSafeJson(data)}</script>
<script>window.MVM_LIVE = ${opts.live !== undefined ? scriptSafeJson(opts.live) : 'null'};</script>
<script>${inlineScript(a.libs)}</script>
<script>${inlineScript(a.script)}</script>
</body>
</html>
`;
}
