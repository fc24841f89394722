/**
 * `mvm report` at 50 versions in a real browser (Debian's chromium through playwright-core): the lineage graph opens
 * with labels at least 10 px high, laid out in layers (every version above what it came from, no node on another,
 * few crossings), datasets grouped one box per dataset; each env has its own legend entry and marker, and a version
 * two envs served shows both; versions only a remote-tracking branch knows are labelled with it; numbers are rounded
 * as displayNumber rounds them, with the exact value at hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { displayNumber } from '../../../src/core/display.js';
import { ok } from '../../helpers/assertions.js';
import { mvm } from '../../helpers/cli.js';
import { launchBrowser, watchedPage } from '../../helpers/browser.js';
import { reportHistory, type ReportHistory } from '../../helpers/reportHistory.js';

let fx: ReportHistory;
let browser: Browser;
let page: Page;
let problems: string[];
let file: string;
let took: number;
let drawn: number;
beforeAll(async () => {
  fx = await reportHistory();
  file = join(fx.dir, 'report.html');
  const t0 = Date.now();
  ok(mvm(['report', '-o', file], { cwd: fx.dir }));
  took = Date.now() - t0;
  browser = await launchBrowser();
  ({ page, problems } = await watchedPage(browser, (u) => u.startsWith('file://')));
  const t1 = Date.now();
  await page.goto(`file://${file}`);
  await page.waitForFunction(() => (window as any).mvmReport?.ready === true, null, { timeout: 20_000 });
  drawn = Date.now() - t1;
}, 120_000);
afterAll(async () => {
  await browser?.close();
  fx?.cleanup();
});

declare const mvmReport: any;
declare const mvmPage: any;

/**
 * What the lineage graph on a page looks like at its opening view, checked for what every report must have: labels
 * at least 10 px high, every version above what it came from, no node on another, the newest version in view.
 */
async function openingLineage(on: Page) {
  const g = await on.evaluate(() => {
    const cy = mvmReport.lineage;
    const leaves = cy.nodes().filter((n: any) => !n.isParent());
    const ext = cy.extent();
    return {
      zoom: cy.zoom(),
      labelPx: leaves.map((n: any) => cy.zoom() * Number.parseFloat(n.style('font-size'))),
      // a rendered label's height per line, in screen pixels
      linePx: leaves.map((n: any) => {
        const b = n.renderedBoundingBox({ includeNodes: false, includeEdges: false, includeLabels: true });
        return b.h / n.data('label').split('\n').length;
      }),
      versions: cy.nodes('.version').length,
      datasets: cy.nodes('.dataset').map((n: any) => [n.parent().data('label'), n.data('label')]),
      lanes: cy.nodes('.lane').map((n: any) => n.data('label')),
      boxes: leaves
        .filter((n: any) => !n.hasClass('lane'))
        .map((n: any) => {
          const b = n.boundingBox({ includeLabels: false });
          return [n.id(), b.x1, b.y1, b.x2, b.y2];
        }),
      up: cy
        .edges('.parent, .ancestor, .base')
        .map((e: any) => [e.data('relation'), e.source().position('y') < e.target().position('y')]),
      segments: cy.edges('.parent, .ancestor').map((e: any) => [e.source().position(), e.target().position()]),
      newestInView: (() => {
        const p = cy.getElementById(mvmPage.data.versions[mvmPage.data.versions.length - 1].id).position();
        return p.x >= ext.x1 && p.x <= ext.x2 && p.y >= ext.y1 && p.y <= ext.y2;
      })(),
    };
  });
  expect(Math.min(...g.labelPx)).toBeGreaterThanOrEqual(10);
  expect(Math.min(...g.linePx)).toBeGreaterThanOrEqual(10);
  // every version above what it came from
  expect(g.up.filter((u: any[]) => !u[1])).toEqual([]);
  // no node on another
  const overlaps: string[] = [];
  for (let i = 0; i < g.boxes.length; i++)
    for (let j = i + 1; j < g.boxes.length; j++) {
      const [a, b] = [g.boxes[i]!, g.boxes[j]!];
      if (a[1] < b[3] && b[1] < a[3] && a[2] < b[4] && b[2] < a[4]) overlaps.push(`${a[0]} / ${b[0]}`);
    }
  expect(overlaps).toEqual([]);
  // how many pairs of parent or ancestor edges cross (the caller bounds it)
  let crossings = 0;
  const cross = (p: any, q: any, r: any, s: any) => {
    const d = (a: any, b: any, c: any) => (b.x - a.x) * (c.y - a.y) - (b.y - a.y) * (c.x - a.x);
    return d(p, q, r) * d(p, q, s) < 0 && d(r, s, p) * d(r, s, q) < 0;
  };
  for (let i = 0; i < g.segments.length; i++)
    for (let j = i + 1; j < g.segments.length; j++)
      if (cross(...(g.segments[i] as [any, any]), ...(g.segments[j] as [any, any]))) crossings++;
  // it opens on the newest versions
  expect(g.newestInView).toBe(true);
  return { ...g, crossings };
}

describe('mvm report of 50 versions in a browser', () => {
  it('is written in reasonable time and size, each version on its branch (origin/feature for the pushed one)', () => {
    const html = readFileSync(file, 'utf8');
    const size = statSync(file).size;
    console.log(`report of 50 versions: ${(size / 1024).toFixed(0)} KiB in ${took} ms, drawn in ${drawn} ms`);
    expect(size).toBeLessThan(1_200_000);
    expect(took).toBeLessThan(30_000);
    const d = JSON.parse(/id="mvm-data">([\s\S]*?)<\/script>/.exec(html)![1]!);
    expect(d.versions).toHaveLength(50);
    expect(d.versions.map((v: any) => [v.number, v.branch])).toEqual(fx.branch.slice(1).map((b, i) => [i + 1, b]));
    expect(d.branches).toEqual(['main', 'wide', 'distill', 'origin/feature']);
    // the data keeps exact values
    expect(d.versions[0].metrics.loss).toBe(1 / 3);
  });

  it('gives each env its own legend entry and marker, and shows both envs of a version they share', async () => {
    const charts = await page.evaluate(() =>
      Object.entries(mvmReport.charts).map(([m, c]: [string, any]) => ({
        m,
        legend: c.legend.legendItems.map((i: any) => [i.text, String(i.pointStyle), i.strokeStyle]),
        shared: c.data.datasets.flatMap((ds: any, di: number) =>
          ds.kind !== 'env'
            ? []
            : ds.data.flatMap((p: any, i: number) => {
                const el = c.getDatasetMeta(di).data[i];
                return p.id === mvmPage.data.versions[8].id ? [[ds.env, Math.round(el.x), Math.round(el.y)]] : [];
              }),
        ),
      })),
    );
    expect(charts.map((c) => c.m).sort()).toEqual(['accuracy', 'loss']);
    for (const c of charts) {
      const envs = c.legend.filter((l: string[]) => l[0]!.startsWith('served by '));
      expect(envs.map((l: string[]) => l[0])).toEqual(['served by default', 'served by canary', 'served by staging']);
      // a shape and a colour per env, none a branch's plain circle
      expect(new Set(envs.map((l: string[]) => l[1])).size).toBe(3);
      expect(new Set(envs.map((l: string[]) => l[2])).size).toBe(3);
      for (const l of envs) expect(l[1]).not.toBe('circle');
      const branches = c.legend.filter((l: string[]) => !l[0]!.startsWith('served by ')).map((l: string[]) => l[0]);
      expect(branches).toEqual(['main', 'wide', 'distill', 'origin/feature']);
      // v9 was served by default and staging: two markers, at different places
      expect(c.shared.map((s: any[]) => s[0])).toEqual(['default', 'staging']);
      expect(c.shared[0].slice(1)).not.toEqual(c.shared[1].slice(1));
    }
  });

  it('draws the lineage in readable layers: labels >= 10 px at the opening zoom, nothing overlapping', async () => {
    const g = await openingLineage(page);
    console.log(`lineage: zoom ${g.zoom.toFixed(3)}, ${g.crossings} parent-edge crossings`);
    // parent edges cross rarely: lanes keep each branch's history in a straight column
    expect(g.crossings).toBeLessThanOrEqual(3);
    expect(g.versions).toBe(50);
    expect(g.lanes).toEqual(['main', 'wide', 'distill', 'origin/feature']);
    // one box per dataset, its snapshots inside
    const groups: Record<string, string[]> = {};
    for (const [group, label] of g.datasets) (groups[group] ??= []).push(label);
    expect(Object.keys(groups).sort()).toEqual(['distill-set', 'extra', 'train', 'valid', 'web']);
    expect(groups.train!.sort()).toEqual(['train-snap-1', 'train-snap-2', 'train-snap-3', 'train-snap-4']);
    expect(g.up.filter((u: any[]) => u[0] === 'base').length).toBe(12);
    // data and git edges a version shares with its parent show while the pointer is on it
    const hover = await page.evaluate(() => {
      const v = mvmReport.lineage.getElementById(mvmPage.data.versions[49].id);
      const implied = v.connectedEdges('.implied');
      const shown = () => implied.filter((e: any) => e.style('display') === 'element').length;
      const before = shown();
      v.emit('mouseover');
      const during = shown();
      v.emit('mouseout');
      return [implied.length, before, during, shown()];
    });
    expect(hover).toEqual([3, 0, 3, 0]);
    expect(problems).toEqual([]);
  });

  it('draws a selection: dotted edges past the versions left out, a base model outside it on the left', async () => {
    const where = join(fx.dir, 'where.html');
    const args = ['report', '-o', where, '--no-pair', '--where', 'version != 10 and version != 13 and version != 30'];
    ok(mvm(args, { cwd: fx.dir }));
    const other = await watchedPage(browser, (u) => u.startsWith('file://'));
    await other.page.goto(`file://${where}`);
    await other.page.waitForFunction(() => (window as any).mvmReport?.ready === true, null, { timeout: 20_000 });
    const g = await openingLineage(other.page);
    expect(g.versions).toBe(47);
    const label = (id: string) => id.split('\n')[0];
    const parts = await other.page.evaluate(() => ({
      bases: mvmReport.lineage.nodes('.base').map((n: any) => [n.parent().data('label'), n.data('label')]),
      toBase: mvmReport.lineage
        .nodes('.base')
        .incomers('edge')
        .map((e: any) => e.source().data('label')),
      ancestors: mvmReport.lineage
        .edges('.ancestor')
        .map((e: any) => [e.source().data('label'), e.target().data('label')]),
    }));
    expect(parts.bases.map((b: string[]) => [b[0], label(b[1]!)])).toEqual([
      ['base models (not in this report)', 'v13'],
    ]);
    expect(parts.toBase.map(label).sort()).toEqual(['v14', 'v15', 'v16', 'v18']);
    expect(parts.ancestors.map((a: string[]) => `${label(a[0]!)}>${label(a[1]!)}`).sort()).toEqual([
      'v11>v9',
      'v14>v12',
      'v20>v12',
      'v31>v29',
    ]);
    expect(other.problems).toEqual([]);
    await other.page.close();
  });

  it('rounds numbers as displayNumber does, the exact value in the title and tooltip', async () => {
    const samples = [1 / 3, 0.09000000000000001, 2 / 3e4, 123456.789, -7.25, 42, 1e-9 / 3];
    const shown = await page.evaluate((xs) => xs.map((x: number) => mvmPage.fmt(x)), samples);
    expect(shown).toEqual(samples.map(displayNumber));
    const cell = await page.evaluate(() => {
      const row = document.querySelector(`#comparison tr[data-id="${mvmPage.data.versions[0].id}"]`)!;
      const col = [...document.querySelectorAll('#comparison th')].findIndex((th) => th.textContent === 'loss');
      const td = row.children[col] as HTMLElement;
      return [td.textContent, td.title];
    });
    expect(cell).toEqual(['0.333333', `exact value: ${1 / 3}`]);
    const at = await page.evaluate(() => {
      const c = mvmReport.charts.loss;
      const di = c.data.datasets.findIndex((d: any) => d.label === 'main');
      const el = c.getDatasetMeta(di).data[0];
      const box = c.canvas.getBoundingClientRect();
      return { x: box.left + el.x, y: box.top + el.y };
    });
    await page.mouse.move(at.x, at.y);
    await page.waitForFunction(() => mvmReport.charts.loss.tooltip.opacity > 0, null, { timeout: 5_000 });
    const tip = await page.evaluate(() => {
      const t = mvmReport.charts.loss.tooltip;
      return [...t.title, ...t.body.flatMap((b: any) => [...b.lines, ...b.after])].join('\n');
    });
    expect(tip).toContain('loss = 0.333333  [main]');
    expect(tip).toContain(`exact value: ${1 / 3}`);
    expect(problems).toEqual([]);
  });
});
