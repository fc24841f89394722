#!/usr/bin/env node
// The S3 simulation of docs/SCALE.md (issue 28): a 140 GB model with 1,000 versions and 50 clients on S3, run
// with mvm's real code on a metadata-only history (manifests and file objects of the model, written through
// mvm's own encoders and pack writer by bench/lib/metadataHistory.mjs; no chunk bytes) in s3rver, a real
// S3-protocol server, behind a counting proxy in this process that sees every request: its method, its key (so
// the load per key prefix), its bytes each way and the second it came in.
// 1. versions - 1 versions are written as one push each (the per-version cost is a push's metadata);
// 2. `clients` processes run `mvm clone s3://... --only config.json` at once (peak RSS of each by /usr/bin/time);
// 3. one clone runs `log --where` and `best` (they must not touch the remote);
// 4. one more version is written (the push of a fine-tune: its metadata);
// 5. every client runs `mvm pull` at once (the new version's manifest, and config.json's file object).
// Usage: npm run bench:s3scale [-- --versions 1000 --clients 50 --shards 24 --model-gb 140 --chunk-mib 1]
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpRequest, createServer } from 'node:http';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeMetadataHistory } from './lib/metadataHistory.mjs';
import { S3RVER_CREDENTIALS, startS3 } from './lib/s3server.mjs';
import { recordIfAsked } from './record.mjs';

recordIfAsked(process.argv, { section: 's3scale', command: 'npm run bench:s3scale' });

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const root = dirname(dirname(fileURLToPath(import.meta.url)));
const { S3Backend } = await import(join(root, 'dist', 'storage', 'remote', 's3.js'));
const shape = {
  versions: arg('versions', 1000),
  shards: arg('shards', 24),
  modelBytes: Math.round(arg('model-gb', 140) * 1e9),
  chunkSize: Math.round(arg('chunk-mib', 1) * 1048576),
  perPush: 1,
};
const clients = arg('clients', 50);
const work = mkdtempSync(join(tmpdir(), 'mvm-s3scale-'));
const MB = 1e6;
const BUCKET = 'bench';
const PREFIX = 'hist';
const URL = `s3://${BUCKET}/${PREFIX}`;

// ------------------------------------------------------------------ the counting proxy
/** Counters of the current phase: requests by method and by key prefix, bytes each way, requests per second. */
let phase = null;
const phases = [];
function startPhase(name) {
  phase = { name, t0: performance.now(), requests: 0, up: 0, down: 0, byMethod: {}, byPrefix: {}, perSecond: {} };
  phases.push(phase);
  return phase;
}
/** The prefix a key's load counts under: its folder, and for packs the first hex digit of the pack's id. */
function prefixOf(key) {
  const [top, rest] = key.split('/');
  if (!top) return '(list)';
  if (top === 'packs' && rest) return `packs/${rest[0]}`;
  return rest === undefined ? top : `${top}/`;
}
const s3 = await startS3(root, join(work, 's3'), BUCKET);
const target = new globalThis.URL(s3.endpoint);
const proxy = createServer((req, res) => {
  const p = phase;
  const path = decodeURIComponent(req.url.split('?')[0]);
  const key = path.split('/').slice(3).join('/');
  const pre = prefixOf(key);
  if (p) {
    p.requests++;
    p.byMethod[req.method] = (p.byMethod[req.method] ?? 0) + 1;
    p.byPrefix[pre] = (p.byPrefix[pre] ?? 0) + 1;
    const sec = Math.floor((performance.now() - p.t0) / 1000);
    p.perSecond[sec] ??= {};
    p.perSecond[sec][pre] = (p.perSecond[sec][pre] ?? 0) + 1;
  }
  // s3rver opens the metadata file of every object a listing returns at once (up to 1,000 a page): with fifty
  // clients listing packs/ together, one clone of fifty got an InternalError (HTTP 500, after the SDK's retries)
  // on a listing, which real S3 does not give for load (it answers 503 SlowDown, which the SDK retries).
  // Listings go to it one at a time; each is counted when it arrives, as S3 would count it, so only their timing
  // changes.
  if (req.method === 'GET' && /[?&]list-type=/.test(req.url)) listQueue = listQueue.then(() => forward(req, res, p));
  else forward(req, res, p);
});
let listQueue = Promise.resolve();
/** Sends one request on to s3rver and its answer back, counting the bytes of both; resolves when answered. */
function forward(req, res, p) {
  return new Promise((done) => {
    const up = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (r) => {
        res.writeHead(r.statusCode ?? 500, r.headers);
        r.on('data', (d) => {
          if (p) p.down += d.length;
        });
        r.pipe(res);
      },
    );
    req.on('data', (d) => {
      if (p) p.up += d.length;
    });
    up.on('error', (e) => {
      res.destroy(e);
      done();
    });
    res.on('close', done);
    req.pipe(up);
  });
}
await new Promise((r) => proxy.listen(0, '127.0.0.1', r));
const endpoint = `http://127.0.0.1:${proxy.address().port}`;
const env = { ...process.env, ...S3RVER_CREDENTIALS, AWS_ENDPOINT_URL: endpoint, MVM_AUTHOR: 'bench', NO_COLOR: '1' };
for (const [k, v] of Object.entries(S3RVER_CREDENTIALS)) process.env[k] = v;
const backend = () => new S3Backend({ url: URL, bucket: BUCKET, prefix: PREFIX, endpoint });

/** Runs `mvm ARGS` in `cwd` under /usr/bin/time; resolves with exit code, wall seconds, peak RSS (KB), stdout. */
function mvmTimed(args, cwd) {
  const tf = join(work, `time-${Math.random().toString(36).slice(2)}.txt`);
  const t0 = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%M', '-o', tf, join(root, 'bin', 'mvm'), ...args], {
    cwd,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  return new Promise((resolve) =>
    child.on('close', (code) => {
      let rss = 0;
      try {
        rss = Number(readFileSync(tf, 'utf8').trim().split('\n').pop());
      } catch {}
      resolve({ code, seconds: (performance.now() - t0) / 1000, rssKB: rss, out, err });
    }),
  );
}
const peakRate = (p, pre) =>
  Math.max(
    0,
    ...Object.values(p.perSecond).map((s) => (pre ? (s[pre] ?? 0) : Object.values(s).reduce((a, b) => a + b, 0))),
  );
const fmtMB = (b) => `${(b / MB).toFixed(2)} MB`;
const med = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

try {
  // 1. the history, one push a version
  const build = startPhase('history');
  const t0 = performance.now();
  const perVersion = [];
  let last = { requests: 0, up: 0 };
  const built = await writeMetadataHistory(backend(), {
    ...shape,
    versions: shape.versions - 1,
    onVersion: (n) => {
      perVersion.push({ requests: build.requests - last.requests, up: build.up - last.up });
      last = { requests: build.requests, up: build.up };
      if (n % 50 === 0) console.error(`  ${n}/${shape.versions - 1} versions written`);
    },
  });
  const buildSeconds = (performance.now() - t0) / 1000;

  // 2. the clients' partial clones, all at once
  const cl = startPhase(`clone x${clients}`);
  const dirs = Array.from({ length: clients }, (_, i) => join(work, `client-${i}`));
  const clones = await Promise.all(dirs.map((d) => mvmTimed(['clone', URL, d, '--only', 'config.json'], work)));
  const cloneWall = (performance.now() - cl.t0) / 1000;
  const failed = clones.filter((c) => c.code !== 0);
  if (failed.length) throw new Error(`${failed.length} clones failed: ${failed[0].err}`);

  // 3. offline reads in one clone
  const off = startPhase('log and best');
  const where = 'metrics.accuracy > 0.9 and params.lr < 0.001';
  const log = await mvmTimed(['log', '--where', where, '--oneline'], dirs[0]);
  const best = await mvmTimed(['best', '--metric', 'accuracy'], dirs[0]);

  // 4. the push of one more fine-tune (its metadata)
  const push = startPhase('push of a fine-tune');
  await writeMetadataHistory(backend(), { ...shape, after: built.ids });

  // 5. every client pulls it, at once
  const pl = startPhase(`pull x${clients}`);
  const pulls = await Promise.all(dirs.map((d) => mvmTimed(['pull'], d)));
  const pullWall = (performance.now() - pl.t0) / 1000;
  const pullFailed = pulls.filter((c) => c.code !== 0);
  if (pullFailed.length) throw new Error(`${pullFailed.length} pulls failed: ${pullFailed[0].err}`);
  phase = null;

  const n = shape.versions;
  console.log('# mvm on S3 at scale: a metadata-only history of a 140 GB model');
  console.log(`- date: ${new Date().toUTCString()}`);
  console.log(
    `- machine: ${cpus().length} cores (${cpus()[0]?.model}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM; load ` +
      `average at end ${loadavg()
        .map((x) => x.toFixed(2))
        .join(' ')}; node ${process.version}`,
  );
  console.log(
    `- history: ${n} versions of a ${(shape.modelBytes / 1e9).toFixed(0)} GB model in ${shape.shards} shards + ` +
      `config.json, ${shape.chunkSize / 1048576} MiB chunks (${built.chunkIdsPerVersion} chunk ids a version, all ` +
      `changed by each fine-tune), one push a version; s3rver on loopback behind a counting proxy; ${clients} clients`,
  );
  console.log(`- history written in ${buildSeconds.toFixed(0)} s`);
  console.log('');
  console.log('## Metadata per version');
  console.log('');
  console.log('| what | bytes a version |');
  console.log('| --- | ---: |');
  console.log(`| manifest (stored) | ${(built.manifestBytes / (n - 1)).toFixed(0)} |`);
  console.log(`| file objects (stored) | ${(built.fileObjectBytes / (n - 1)).toFixed(0)} |`);
  const pv = perVersion.slice(1);
  console.log(`| uploaded by a push of one version (median of ${pv.length}) | ${med(pv.map((v) => v.up))} |`);
  console.log('');
  console.log('## Requests and bytes per operation');
  console.log('');
  console.log(
    '| operation | requests | of which GET / PUT / other | bytes down | bytes up | wall | peak RSS a process |',
  );
  console.log('| --- | ---: | --- | ---: | ---: | ---: | ---: |');
  const methods = (p) =>
    `${p.byMethod.GET ?? 0} / ${p.byMethod.PUT ?? 0} / ${p.requests - (p.byMethod.GET ?? 0) - (p.byMethod.PUT ?? 0)}`;
  const rss = (rs) => `${(Math.max(...rs.map((r) => r.rssKB)) / 1024).toFixed(1)} MB`;
  console.log(`| push of one version (median over the history) | ${med(pv.map((v) => v.requests))} | | | | | |`);
  console.log(
    `| push of a fine-tune (version ${n}) | ${push.requests} | ${methods(push)} | ${fmtMB(push.down)} | ` +
      `${fmtMB(push.up)} | | (in this process) |`,
  );
  console.log(
    `| clone --only config.json, one client (mean of ${clients}) | ${(cl.requests / clients).toFixed(0)} | | ` +
      `${fmtMB(cl.down / clients)} | ${fmtMB(cl.up / clients)} | ` +
      `median ${med(clones.map((c) => c.seconds)).toFixed(1)} s | ${rss(clones)} |`,
  );
  console.log(
    `| all ${clients} clones at once | ${cl.requests} | ${methods(cl)} | ${fmtMB(cl.down)} | ${fmtMB(cl.up)} | ` +
      `${cloneWall.toFixed(1)} s | |`,
  );
  console.log(
    `| log --where and best in a clone | ${off.requests} | ${methods(off)} | ${fmtMB(off.down)} | | ` +
      `${log.seconds.toFixed(2)} s, ${best.seconds.toFixed(2)} s | ${rss([log, best])} |`,
  );
  console.log(
    `| pull of the new version, one client (mean of ${clients}) | ${(pl.requests / clients).toFixed(0)} | | ` +
      `${fmtMB(pl.down / clients)} | ${fmtMB(pl.up / clients)} | ` +
      `median ${med(pulls.map((c) => c.seconds)).toFixed(1)} s | ${rss(pulls)} |`,
  );
  console.log(
    `| all ${clients} pulls at once | ${pl.requests} | ${methods(pl)} | ${fmtMB(pl.down)} | ${fmtMB(pl.up)} | ` +
      `${pullWall.toFixed(1)} s | |`,
  );
  console.log('');
  console.log('## Load per key prefix');
  console.log('');
  console.log(
    `Requests per prefix in each phase, and the most any one second saw (here, on loopback and two cores; S3 ` +
      'serves 5,500 GET and 3,500 PUT a second per partitioned prefix).',
  );
  console.log('');
  const shown = [build, cl, pl];
  console.log(`| prefix | ${shown.map((p) => `${p.name}: requests (peak a second)`).join(' | ')} |`);
  console.log(`| --- | ${shown.map(() => '---:').join(' | ')} |`);
  const prefixes = [...new Set(shown.flatMap((p) => Object.keys(p.byPrefix)))].sort();
  for (const pre of prefixes)
    console.log(`| ${pre} | ${shown.map((p) => `${p.byPrefix[pre] ?? 0} (${peakRate(p, pre)})`).join(' | ')} |`);
  console.log(`| all | ${shown.map((p) => `${p.requests} (${peakRate(p)})`).join(' | ')} |`);
  console.log('');
  console.log(
    `- log --where offline: ${log.code === 0 ? 'works' : `exit ${log.code}`} (${log.out.trim().split('\n').length} ` +
      `lines), ${off.requests} requests to the remote`,
  );
} finally {
  proxy.close();
  await s3.stop();
  rmSync(work, { recursive: true, force: true });
}
