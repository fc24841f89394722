/**
 * The `mvm report` page in a real browser (Debian's chromium through
 * playwright-core): it renders offline with no console error, each metric
 * chart has one point per version (plus the env markers), the lineage graph
 * has one node per version and pans and zooms, the table sorts, tooltips name
 * the version, the tensor chart has a bar per changed layer, and a served
 * page reloads itself when the repository changes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { ok } from '../../helpers/assertions.js';
import { launchBrowser, watchedPage } from '../../helpers/browser.js';
import { makeReportRepo, startServe, type ReportRepo } from '../../helpers/reportRepo.js';

let fx: ReportRepo;
let browser: Browser;
beforeAll(async () => {
  fx = makeReportRepo({ message5: 'tune <img src=x onerror="window.pwned=1">' });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  fx?.cleanup();
});

declare const mvmReport: any;
declare const Chart: any;

describe('mvm report in a browser', () => {
  it('renders every part from the file alone, with no error and no request', async () => {
    ok(fx.run(['report', '-o', 'report.html']));
    const file = join(fx.dir, 'report.html');
    const { page, problems } = await watchedPage(browser, (u) => u.startsWith('file://'));
    await page.goto(`file://${file}`);
    await page.waitForFunction(() => (window as any).mvmReport?.ready === true, null, { timeout: 15_000 });

    const charts = await page.evaluate(() =>
      Object.fromEntries(
        Object.entries(mvmReport.charts).map(([m, c]: [string, any]) => [
          m,
          c.data.datasets.map((d: any) => [d.kind, d.label, d.data.map((p: any) => p.x)]),
        ]),
      ),
    );
    expect(Object.keys(charts).sort()).toEqual(['accuracy', 'loss']);
    for (const m of ['accuracy', 'loss']) {
      // one point per version across the branch series, each version once
      const branchPoints = charts[m]
        .filter((d: any) => d[0] === 'branch')
        .flatMap((d: any) => d[2])
        .sort();
      expect(branchPoints).toEqual([1, 2, 3, 4, 5]);
      expect(charts[m].filter((d: any) => d[0] === 'branch').map((d: any) => d[1])).toEqual(['main', 'experiment']);
      // the versions each env has served are marked
      expect(charts[m].filter((d: any) => d[0] === 'env').map((d: any) => [d[1], d[2]])).toEqual([
        ['served by default', [2, 4]],
        ['served by staging', [4]],
      ]);
    }
    // rendered on a canvas that has pixels
    const canvases = await page.$$eval('#charts canvas', (cs) =>
      cs.map((c) => [(c as HTMLCanvasElement).width, (c as HTMLCanvasElement).height]),
    );
    expect(canvases).toHaveLength(2);
    for (const [w, h] of canvases) expect(w! * h!).toBeGreaterThan(10_000);

    // hovering v3's accuracy point shows its id, message, branch and params
    const at = await page.evaluate(() => {
      const c = mvmReport.charts.accuracy;
      const di = c.data.datasets.findIndex((d: any) => d.label === 'experiment');
      const el = c.getDatasetMeta(di).data[0];
      const box = c.canvas.getBoundingClientRect();
      return { x: box.left + el.x, y: box.top + el.y };
    });
    await page.mouse.move(at.x, at.y);
    await page.waitForFunction(() => mvmReport.charts.accuracy.tooltip.opacity > 0, null, { timeout: 5_000 });
    const tip = await page.evaluate(() => {
      const t = mvmReport.charts.accuracy.tooltip;
      return [...t.title, ...t.body.flatMap((b: any) => [...b.lines, ...b.after])].join('\n');
    });
    expect(tip).toContain(`v3 ${fx.ids[3]!.slice(0, 12)}`);
    expect(tip).toContain('accuracy = 0.83  [experiment]');
    expect(tip).toContain('try a larger lr');
    expect(tip).toContain('params: lr=0.01');

    // the x axis can be time
    await page.selectOption('#x-axis', 'time');
    const xs = await page.evaluate(() => mvmReport.charts.accuracy.data.datasets[0].data.map((p: any) => p.x));
    const times = JSON.parse(/id="mvm-data">([\s\S]*?)<\/script>/.exec(readFileSync(file, 'utf8'))![1]!)
      .versions.filter((v: any) => v.branch === 'main')
      .map((v: any) => Date.parse(v.time));
    expect(xs).toEqual(times);

    // lineage: one node per version, the dataset, the base edge; it pans and zooms
    const graph = await page.evaluate(() => ({
      versions: mvmReport.lineage
        .nodes('.version')
        .map((n: any) => n.data('label').split('\n')[0])
        .sort(),
      datasets: mvmReport.lineage.nodes('.dataset').length,
      git: mvmReport.lineage.nodes('.git').length,
      base: mvmReport.lineage
        .edges('.base')
        .map((e: any) => [e.source().data('label').split('\n')[0], e.target().data('label').split('\n')[0]]),
      zoom: mvmReport.lineage.zoom(),
      rendered: mvmReport.lineage.nodes().every((n: any) => n.renderedBoundingBox().w > 10),
    }));
    expect(graph.versions).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    expect(graph.datasets).toBe(1);
    expect(graph.git).toBe(1);
    expect(graph.base).toEqual([['v4', 'v2']]);
    expect(graph.rendered).toBe(true);
    const box = (await page.locator('#lineage').boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((z) => mvmReport.lineage.zoom() !== z, graph.zoom, { timeout: 5_000 });

    // the table: one row per version; clicking a column sorts by it, again reverses
    const order = () => page.$$eval('#comparison tbody tr td:first-child', (tds) => tds.map((td) => td.textContent));
    expect(await order()).toEqual(['v1', 'v2', 'v3', 'v4', 'v5']);
    await page.click('#comparison th:text-is("loss")');
    expect(await order()).toEqual(['v5', 'v4', 'v2', 'v3', 'v1']);
    await page.click('#comparison th:text-is("loss")');
    expect(await order()).toEqual(['v1', 'v3', 'v2', 'v4', 'v5']);
    expect(await page.textContent('#comparison tbody tr:last-child')).toContain('(+0.1)');

    // the tensor chart: one bar per changed layer of v4 -> v5
    expect(await page.textContent('#pair-title')).toBe('Tensor changes from v4 to v5');
    const bars = await page.evaluate(() => ({
      labels: mvmReport.pairChart.data.labels,
      values: mvmReport.pairChart.data.datasets[0].data,
    }));
    expect(bars.labels).toEqual(['layers.0.*']);
    expect(bars.values[0]).toBeGreaterThan(0.1);

    // a message is text, never markup
    expect(await page.evaluate(() => (window as any).pwned)).toBeUndefined();
    expect(await page.textContent('#comparison tbody tr:last-child')).toContain('<img src=x');

    const png = await page.screenshot({ fullPage: true });
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(50_000);
    expect(problems).toEqual([]);
    await page.close();
  }, 60_000);

  it('a served page reloads itself when the repository changes', async () => {
    const { url, child, done } = await startServe(fx.dir);
    try {
      const { page, problems } = await watchedPage(browser, (u) => u.startsWith(url));
      await page.goto(url);
      await page.waitForFunction(() => (window as any).mvmReport?.ready === true, null, { timeout: 15_000 });
      expect(await page.evaluate(() => Object.keys(mvmReport.charts).sort())).toEqual(['accuracy', 'loss']);
      ok(fx.run(['annotate', 'v3', '--metric', 'f1=0.61']));
      // the page notices, reloads, and draws the new metric
      await page.waitForFunction(() => (window as any).mvmReport?.ready === true && 'f1' in mvmReport.charts, null, {
        timeout: 15_000,
      });
      const f1 = await page.evaluate(() =>
        mvmReport.charts.f1.data.datasets
          .filter((d: any) => d.kind === 'branch')
          .flatMap((d: any) => d.data.map((p: any) => [p.x, p.y])),
      );
      expect(f1).toEqual([[3, 0.61]]);
      expect(problems).toEqual([]);
      await page.close();
    } finally {
      child.kill('SIGTERM');
    }
    expect((await done).exitCode).toBe(0);
  }, 60_000);
});
