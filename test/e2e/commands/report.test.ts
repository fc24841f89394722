/**
 * `mvm report` through the real CLI: the self-contained page and the data it
 * carries, selections, the tensor pair, hostile text, errors, and --serve
 * (which rebuilds the page when the repository changes). The page in a real
 * browser is tested in report-browser.test.ts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'node:http';
import { ok, json, expectError } from '../../helpers/assertions.js';
import { makeReportRepo, startServe, type ReportRepo } from '../../helpers/reportRepo.js';

const HOSTILE = 'tune \u2028 </script><script>window.pwned=1</script> <!-- &';
let fx: ReportRepo;
beforeAll(() => {
  fx = makeReportRepo({ message5: HOSTILE });
}, 120_000);
afterAll(() => fx?.cleanup());

/**
 * A raw GET to the server at `url` with the given Host header (fetch does not let a page set it; a rebinding attacker's
 * browser does).
 */
function getWithHost(url: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers: { host } }, (r) => {
      let body = '';
      r.setEncoding('utf8')
        .on('data', (d) => (body += d))
        .on('end', () => res({ status: r.statusCode!, body }));
    });
    req.on('error', rej).end();
  });
}

/** The JSON block a report page carries. */
function pageData(html: string): any {
  const m = /<script type="application\/json" id="mvm-data">([\s\S]*?)<\/script>/.exec(html);
  expect(m).not.toBeNull();
  return JSON.parse(m![1]!);
}

describe('mvm report', () => {
  it('writes one self-contained page: every version, branches, envs, lineage, comparison and the tensor pair', () => {
    const r = ok(fx.run(['report', '-o', 'out/report.html']));
    expect(r.stdout).toMatch(/out\/report\.html: 5 versions, 2 metrics, tensors of v4 -> v5 \(\d+(\.\d+)? KiB\)/);
    const html = readFileSync(join(fx.dir, 'out/report.html'), 'utf8');
    // nothing is loaded from anywhere: no external script, stylesheet or image, and a policy that forbids it
    expect(html).not.toMatch(/<script[^>]+src=/i);
    expect(html).not.toMatch(/<link[^>]+href=/i);
    expect(html).toContain(
      `content="default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data: blob:"`,
    );
    // the libraries are inlined
    expect(html).toContain('Chart.js v4');
    expect(html).toContain('The Cytoscape Consortium');
    expect(html).not.toContain('cytoscape-dagre');
    // no temp file is left beside it
    expect(readdirSync(join(fx.dir, 'out'))).toEqual(['report.html']);
    const d = pageData(html);
    expect(d.versions.map((v: any) => [v.number, v.branch, v.envs])).toEqual([
      [1, 'main', []],
      [2, 'main', ['default']],
      [3, 'experiment', []],
      [4, 'main', ['default', 'staging']],
      [5, 'main', []],
    ]);
    expect(d.versions[4].message).toBe(HOSTILE);
    expect(d.metrics).toEqual(['accuracy', 'loss']);
    expect(d.directions).toEqual({ accuracy: 'higher', loss: 'lower' });
    expect(d.branches).toEqual(['main', 'experiment']);
    expect(d.envs.map((e: any) => [e.name, e.moves.map((m: any) => m.number), e.current])).toEqual([
      ['default', [2, 4], fx.ids[4]],
      ['staging', [4], fx.ids[4]],
    ]);
    // lineage: one node per version, the dataset once, the git commit once, parent and base edges
    const kinds = d.lineage.nodes.map((n: any) => n.kind).sort();
    expect(kinds).toEqual(['dataset', 'git', 'version', 'version', 'version', 'version', 'version']);
    const edges = d.lineage.edges.map((e: any) => `${e.from.slice(0, 8)}-${e.relation}`);
    const id = (n: number) => fx.ids[n]!.slice(0, 8);
    expect(edges.filter((e: string) => e.endsWith('-git'))).toHaveLength(5);
    expect(d.lineage.nodes.find((n: any) => n.kind === 'git').label).toMatch(/^git [0-9a-f]{8}$/);
    expect(edges.filter((e: string) => !e.endsWith('-data') && !e.endsWith('-git')).sort()).toEqual(
      [`${id(2)}-parent`, `${id(3)}-parent`, `${id(4)}-parent`, `${id(4)}-base`, `${id(5)}-parent`].sort(),
    );
    expect(edges.filter((e: string) => e.endsWith('-data')).sort()).toEqual(
      [`${id(1)}-data`, `${id(2)}-data`, `${id(4)}-data`].sort(),
    );
    // comparison: deltas against v1
    expect(d.comparison.columns.map((c: any) => c.metrics.accuracy.delta?.toFixed(2) ?? null)).toEqual([
      null,
      '0.04',
      '0.03',
      '0.08',
      '0.10',
    ]);
    expect(d.comparison.columns[4].metrics.loss.verdict).toBe('better');
    // the pair: v5 against its parent v4, which changed only layers.0.mlp (noise of 0.2 of the weights' spread)
    expect(d.pair.from.number).toBe(4);
    expect(d.pair.to.number).toBe(5);
    expect(d.pair.layers).toHaveLength(1);
    expect(d.pair.layers[0]).toMatchObject({
      file: 'model.safetensors',
      layer: 'layers.0.*',
      changedTensors: 1,
      totalTensors: 2,
      notCompared: 0,
    });
    expect(d.pair.layers[0].relL2).toBeGreaterThan(0.1);
    expect(d.pair.layers[0].relL2).toBeLessThan(0.4);
  });

  it('text from the repository cannot end the data block or run as script', () => {
    ok(fx.run(['report', '-o', 'hostile.html', '--no-pair']));
    const html = readFileSync(join(fx.dir, 'hostile.html'), 'utf8');
    const block = /<script type="application\/json" id="mvm-data">([\s\S]*?)<\/script>/.exec(html)![1]!;
    expect(block).not.toMatch(/<|>|\u2028/);
    expect(html).not.toContain('<script>window.pwned');
    expect(pageData(html).versions[4].message).toBe(HOSTILE);
  });

  it('selects by revision or --where, picks the pair, and --json prints the data', () => {
    const some = json(fx.run(['report', 'v1', 'v3', 'experiment', '--json']));
    expect(some.versions.map((v: any) => v.number)).toEqual([1, 3]);
    // v3's parent v2 is not in the report: its edge goes to the nearest reported ancestor
    expect(
      some.lineage.edges
        .filter((e: any) => e.relation !== 'data' && e.relation !== 'git')
        .map((e: any) => [e.from, e.relation, e.to]),
    ).toEqual([[fx.ids[3], 'ancestor', fx.ids[1]]]);
    expect(some.pair.from.number).toBe(2);
    const good = json(fx.run(['report', '--where', 'metrics.accuracy > 0.85', '--pair', 'v1', 'v3', '--json']));
    expect(good.versions.map((v: any) => v.number)).toEqual([4, 5]);
    // v4's base v2 is outside the selection: a base node of its own, still linked
    expect(good.lineage.nodes.filter((n: any) => n.kind === 'base').map((n: any) => n.label)).toEqual(['v2']);
    expect(good.pair.layers.map((l: any) => l.layer).sort()).toEqual(['head.*', 'layers.1.*']);
    expect(json(fx.run(['report', '--no-pair', '--json'])).pair).toBeNull();
    expect(json(fx.run(['report', 'v1', '--json'])).pair).toBeNull();
  });

  it('refuses what it cannot do with a clear error, writing nothing', () => {
    expectError(fx.run(['report', '--pair', 'v1', '-o', 'bad.html', '--json']), 'BAD_ARGUMENT', 2);
    const miss = expectError(
      fx.run(['report', '--where', 'metrics.acuracy > 0.5', '-o', 'bad.html', '--json']),
      'NO_VERSIONS',
      4,
    );
    expect(miss.message).toContain("did you mean 'metrics.accuracy'");
    expectError(fx.run(['report', 'v9', '-o', 'bad.html', '--json']), 'UNKNOWN_REVISION', 4);
    expectError(fx.run(['report', '--where', 'metrics.accuracy >', '-o', 'bad.html', '--json']), 'BAD_EXPRESSION', 2);
    expect(existsSync(join(fx.dir, 'bad.html'))).toBe(false);
  });

  it('--serve answers on localhost and rebuilds the page when the repository changes', async () => {
    const { url, child, done } = await startServe(fx.dir);
    try {
      const page = await fetch(url);
      expect(page.status).toBe(200);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      const html = await page.text();
      expect(html).toContain(`connect-src 'self'`);
      expect(pageData(html).versions).toHaveLength(5);
      const stamp = await (await fetch(new URL('/__mvm/stamp', url))).text();
      expect(stamp).toMatch(/^[0-9a-f]{32}$/);
      expect(html).toContain(`window.MVM_LIVE = "${stamp}"`);
      expect((await fetch(new URL('/../../etc/passwd', url))).status).toBe(404);
      expect((await fetch(url, { method: 'POST' })).status).toBe(405);
      // an annotation is a change: the stamp moves and the page shows the new metric
      ok(fx.run(['annotate', 'v5', '--metric', 'f1=0.7']));
      expect(await (await fetch(new URL('/__mvm/stamp', url))).text()).not.toBe(stamp);
      const data = await (await fetch(new URL('/report.json', url))).json();
      expect(data.metrics).toEqual(['accuracy', 'f1', 'loss']);
      expect(data.versions[4].metrics.f1).toBe(0.7);
    } finally {
      child.kill('SIGTERM');
    }
    const r = await done;
    expect(r.exitCode).toBe(0);
    expect(r.stderr).toBe('');
  });

  it(
    '--serve answers only a loopback Host on its own port: a rebound foreign name gets 403 and no report ' + 'data',
    async () => {
      const { url, child, done } = await startServe(fx.dir);
      try {
        const port = new URL(url).port;
        for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
          const r = await getWithHost(url, '/report.json', host);
          expect(r.status, host).toBe(200);
          expect(JSON.parse(r.body).versions).toHaveLength(5);
        }
        for (const host of [
          `evil.example:${port}`,
          'evil.example',
          `127.0.0.1:${Number(port) + 1}`,
          '127.0.0.1',
          `localhost.evil.example:${port}`,
          `127.0.0.1.nip.io:${port}`,
        ]) {
          for (const path of ['/', '/report.json', '/__mvm/stamp']) {
            const r = await getWithHost(url, path, host);
            expect(r.status, `${host} ${path}`).toBe(403);
            expect(r.body).not.toContain('versions');
            expect(r.body).not.toMatch(/[0-9a-f]{32}/);
          }
        }
      } finally {
        child.kill('SIGTERM');
      }
      expect((await done).exitCode).toBe(0);
    },
  );
});
