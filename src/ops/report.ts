import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { dirname, resolve } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import type { Repository } from '../repo/repository/index.js';
import { reportData, stateStamp, type ReportData, type ReportSelection, reportHtml } from '../repo/insight/index.js';
import { writeFileAtomic } from '../storage/atomic.js';

export type { ReportData, ReportSelection } from '../repo/insight/index.js';

/** What `mvm report -o FILE` wrote. */
export interface ReportResult {
  output: string;
  bytes: number;
  versions: number;
  metrics: number;
  pair: { from: number | null; to: number | null } | null;
  warnings: string[];
}

/** The report's data alone (`mvm report --json`). */
export function report(repo: Repository, sel: ReportSelection = {}): Promise<ReportData> {
  return reportData(repo, sel);
}

/** Writes the self-contained HTML report (default `report.html` in the current folder), whole or not at all. */
export async function writeReport(
  repo: Repository,
  sel: ReportSelection & { output?: string } = {},
): Promise<ReportResult> {
  const data = await reportData(repo, sel);
  const output = resolve(sel.output ?? 'report.html');
  const html = reportHtml(data);
  try {
    mkdirSync(dirname(output), { recursive: true });
    writeFileAtomic(output, html, { tmpDir: dirname(output) });
  } catch (e) {
    throw fromSystemError(e, output, 'writing');
  }
  return {
    output,
    bytes: Buffer.byteLength(html),
    versions: data.versions.length,
    metrics: data.metrics.length,
    pair: data.pair ? { from: data.pair.from.number, to: data.pair.to.number } : null,
    warnings: data.warnings,
  };
}

/** Host names a browser sends for a page it loaded from this machine's own loopback address. */
const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/**
 * True when a request's Host header is a loopback name with the server's own port (`127.0.0.1:8741`, `localhost:8741`,
 * `[::1]:8741`).
 */
export function loopbackHost(host: string | undefined, port: number): boolean {
  if (!host) return false;
  const h = host.toLowerCase();
  const m = /^(.+):(\d{1,5})$/.exec(h);
  // a browser leaves out port 80
  if (!m) return port === 80 && LOOPBACK_NAMES.has(h);
  return Number(m[2]) === port && LOOPBACK_NAMES.has(m[1]!);
}

/** A running `mvm report --serve`. */
export interface ReportServer {
  url: string;
  port: number;
  close(): Promise<void>;
  server: Server;
}

/**
 * Serves the report on localhost. Each request for the page reads the
 * repository afresh (the page is rebuilt only when the state stamp changed);
 * the page polls `/__mvm/stamp` and reloads itself when it moves.
 */
export async function serveReport(
  open: () => Repository,
  sel: ReportSelection & { port?: number; host?: string; onError?: (e: unknown) => void } = {},
): Promise<ReportServer> {
  let cache: { stamp: string; html: string; json: string } | null = null;
  const build = async () => {
    const repo = open();
    const stamp = stateStamp(repo);
    if (cache?.stamp !== stamp) {
      const data = await reportData(repo, sel);
      cache = { stamp, html: reportHtml(data, { live: stamp }), json: JSON.stringify(data) };
    }
    return cache;
  };
  // the port it listens on, known once listening (no request arrives before)
  let port = -1;
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    const send = (status: number, type: string, body: string) => {
      res.writeHead(status, {
        'content-type': `${type}; charset=utf-8`,
        'cache-control': 'no-store',
        'x-content-type-options': 'nosniff',
      });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    // DNS rebinding: a page from another site whose name now resolves to 127.0.0.1 sends its own Host
    if (!loopbackHost(req.headers.host, port))
      return send(403, 'text/plain', 'forbidden: mvm report answers only to a loopback host name on its own port\n');
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
    if (path === '/__mvm/stamp') {
      try {
        return send(200, 'text/plain', stateStamp(open()));
      } catch (e) {
        return send(500, 'text/plain', `${(e as Error).message}\n`);
      }
    }
    if (path !== '/' && path !== '/index.html' && path !== '/report.json')
      return send(404, 'text/plain', 'not found\n');
    build().then(
      (c) => (path === '/report.json' ? send(200, 'application/json', c.json) : send(200, 'text/html', c.html)),
      (e) => {
        sel.onError?.(e);
        send(e instanceof MvmError ? 409 : 500, 'text/plain', `${(e as Error).message}\n`);
      },
    );
  });
  const host = sel.host ?? '127.0.0.1';
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'EADDRINUSE'
          ? new MvmError('BAD_VALUE', `port ${sel.port} is already in use`, {
              port: sel.port,
              hint: 'pick another with --port N (--port 0 takes any free port)',
            })
          : fromSystemError(e, `${host}:${sel.port}`, 'listening on'),
      ),
    );
    server.listen(sel.port ?? 0, host, () => ok());
  });
  const addr = server.address();
  port = typeof addr === 'object' && addr ? addr.port : (sel.port ?? 0);
  return {
    url: `http://${host}:${port}/`,
    port,
    server,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        // a page left open keeps polling on a kept-alive connection: end it too
        server.closeAllConnections();
      }),
  };
}
