// The remotes section of the benchmark (`npm run bench -- --remotes`): push,
// no-op push, clone and pull of a model v1 -> v2 pair to a folder remote and to
// a local S3-protocol server (s3rver, in its own process), against `rclone
// copy` of the same bytes to the same targets and `restic backup` to the same
// S3 server, all in one run. Helpers come from bench/run.mjs.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { followLatency } from './lib/followLatency.mjs';
import { fineTuneTransfer } from './lib/fineTuneTransfer.mjs';
import { S3RVER_CREDENTIALS, startS3 } from './lib/s3server.mjs';

/**
 * Runs the section. `h` carries run.mjs's helpers: run, mvmRun (mvm with an env),
 * say, table, bar, fmtS, fmtMB, fmtBytes, fmtRate, have, installMissing, log, syncDisk, ROOT, TMP.
 */
export async function runRemotes(h, A, B, sizeA) {
  const { run, say, table, bar, fmtS, fmtMB, fmtBytes, fmtRate, have, log, syncDisk, ROOT, TMP, finetuneMib } = h;
  h.installMissing('remotes', { rclone: 'rclone', restic: 'restic' });
  const base = join(TMP, 'remotes');
  mkdirSync(base, { recursive: true });
  const s3dir = mkdtempSync(join(base, 's3-'));
  const s3 = await startS3(ROOT, s3dir, 'bench');
  const creds = S3RVER_CREDENTIALS;
  const env = { ...process.env, MVM_AUTHOR: 'bench', NO_COLOR: '1', ...creds };
  const mvm = (cwd, ...args) => h.mvmRun(cwd, env, ...args);
  const mvmJson = (cwd, ...args) => {
    const r = mvm(cwd, ...args, '--json');
    r.json = JSON.parse(r.stdout);
    return r;
  };
  // loopback http: a CA bundle set for the host's proxies only confuses rclone's S3 client
  const { AWS_CA_BUNDLE: _ca, ...plainEnv } = process.env;
  const rcloneEnv = {
    ...plainEnv,
    RCLONE_CONFIG_B_TYPE: 's3',
    RCLONE_CONFIG_B_PROVIDER: 'Other',
    RCLONE_CONFIG_B_ENDPOINT: s3.endpoint,
    RCLONE_CONFIG_B_ACCESS_KEY_ID: 'S3RVER',
    RCLONE_CONFIG_B_SECRET_ACCESS_KEY: 'S3RVER',
    RCLONE_CONFIG_B_FORCE_PATH_STYLE: 'true',
  };
  const targets = [
    {
      name: 'folder',
      url: join(base, 'folder-remote'),
      ftUrl: join(base, 'finetune-remote'),
      add: [],
      rcloneDest: join(base, 'rclone-folder'),
      rcloneBack: join(base, 'rclone-folder'),
    },
    {
      name: 's3 (s3rver)',
      url: 's3://bench/mvm',
      ftUrl: 's3://bench/mvm-finetune',
      add: ['--endpoint', s3.endpoint],
      rcloneDest: 'b:bench/rclone',
      rcloneBack: 'b:bench/rclone',
    },
  ];
  const rows = [];
  const res = {};
  const rssAll = [];
  try {
    for (const t of targets) {
      log(`remotes: ${t.name}`);
      const ws = join(base, `ws-${t.name.split(' ')[0]}`);
      mkdirSync(ws, { recursive: true });
      copyFileSync(A, join(ws, 'model.safetensors'));
      writeFileSync(join(ws, 'config.json'), JSON.stringify({ model: 'bench', layers: 24, note: 'x'.repeat(2000) }));
      mvm(ws, 'init', '-q');
      mvm(ws, 'add', 'model.safetensors', 'config.json');
      const c1 = mvmJson(ws, 'commit', '-m', 'v1');
      mvm(ws, 'remote', 'add', 'origin', t.url, ...t.add);
      syncDisk();
      const push1 = mvmJson(ws, 'push');
      // a clone at v1, to pull v2 into later
      syncDisk();
      const cloneV1 = mvmJson(base, 'clone', t.url, `c1-${t.name.split(' ')[0]}`, ...t.add);
      copyFileSync(B, join(ws, 'model.safetensors'));
      const c2 = mvmJson(ws, 'commit', '-m', 'v2');
      syncDisk();
      const push2 = mvmJson(ws, 'push');
      const noop = mvmJson(ws, 'push');
      // a serving host following production: deploy and rollback to served
      const follow = await followLatency({ ws, base, url: t.url, add: t.add, env, mvm, interval: 0.5 });
      syncDisk();
      const clone = mvmJson(base, 'clone', t.url, `c2-${t.name.split(' ')[0]}`, ...t.add);
      syncDisk();
      // a clone that also keeps every chunk in its own store (what clone did before partial stores)
      const cloneFull = mvmJson(base, 'clone', t.url, `c4-${t.name.split(' ')[0]}`, '--full', ...t.add);
      rmSync(join(base, `c4-${t.name.split(' ')[0]}`), { recursive: true, force: true });
      syncDisk();
      const pull = mvmJson(join(base, `c1-${t.name.split(' ')[0]}`), 'pull');
      syncDisk();
      const only = mvmJson(base, 'clone', t.url, `c3-${t.name.split(' ')[0]}`, '--only', 'config.json', ...t.add);
      // a 10% fine-tune of a smaller model: push and pull against what its commit stored
      log(`remotes: ${t.name}: push and pull of a 10% fine-tune (${finetuneMib} MiB model)`);
      const ft = fineTuneTransfer({
        base,
        url: t.ftUrl,
        add: t.add,
        mvm,
        mvmJson,
        syncDisk,
        sizeBytes: Math.round(finetuneMib * 1024 * 1024),
        tag: t.name.split(' ')[0],
      });
      // baselines: rclone copy of the raw model there and back
      let rUp = null;
      let rDown = null;
      if (have('rclone')) {
        syncDisk();
        rUp = run('rclone', ['copy', A, t.rcloneDest], { env: rcloneEnv });
        const back = join(base, `rclone-back-${t.name.split(' ')[0]}`);
        syncDisk();
        rDown = run('rclone', ['copy', `${t.rcloneBack}/${A.split('/').pop()}`, back], { env: rcloneEnv });
      }
      const r = {
        storedV1: c1.json.storedBytes,
        storedV2: c2.json.storedBytes,
        push1: { s: push1.wall, bytes: push1.json.bytes, requests: push1.json.requests, rssKB: push1.rssKB },
        push2: { s: push2.wall, bytes: push2.json.bytes, requests: push2.json.requests, rssKB: push2.rssKB },
        noop: { s: noop.wall, bytes: noop.json.bytes, requests: noop.json.requests, rssKB: noop.rssKB },
        cloneV1: { s: cloneV1.wall, bytes: cloneV1.json.bytes, requests: cloneV1.json.requests, rssKB: cloneV1.rssKB },
        clone: { s: clone.wall, bytes: clone.json.bytes, requests: clone.json.requests, rssKB: clone.rssKB },
        cloneFull: {
          s: cloneFull.wall,
          bytes: cloneFull.json.bytes,
          requests: cloneFull.json.requests,
          rssKB: cloneFull.rssKB,
        },
        pull: { s: pull.wall, bytes: pull.json.fetched.bytes, requests: pull.json.requests, rssKB: pull.rssKB },
        only: { s: only.wall, bytes: only.json.bytes, requests: only.json.requests, rssKB: only.rssKB },
        finetune: ft,
        rcloneUp: rUp && { s: rUp.wall, rssKB: rUp.rssKB },
        rcloneDown: rDown && { s: rDown.wall, rssKB: rDown.rssKB },
      };
      res[t.name] = r;
      // this target's workspaces and copies are not needed any more (at 4 GiB they fill a disk)
      for (const d of [
        ws,
        join(base, `c1-${t.name.split(' ')[0]}`),
        join(base, `c2-${t.name.split(' ')[0]}`),
        join(base, `c3-${t.name.split(' ')[0]}`),
        join(base, `rclone-back-${t.name.split(' ')[0]}`),
        join(base, 'rclone-folder'),
        join(base, 'folder-remote'),
      ])
        rmSync(d, { recursive: true, force: true });
      rssAll.push(
        push1.rssKB,
        push2.rssKB,
        noop.rssKB,
        cloneV1.rssKB,
        clone.rssKB,
        cloneFull.rssKB,
        pull.rssKB,
        only.rssKB,
        ft.push.rssKB,
        ft.pull.rssKB,
        ft.pullFull.rssKB,
      );
      const row = (what, x, baseline) => [
        t.name,
        what,
        fmtS(x.s),
        fmtBytes(x.bytes),
        x.bytes ? fmtRate(x.bytes, x.s) : '-',
        String(x.requests),
        fmtMB(x.rssKB),
        baseline ?? '',
      ];
      rows.push(
        row('push v1', r.push1, rUp ? `rclone copy A: ${fmtS(rUp.wall)} (${(r.push1.s / rUp.wall).toFixed(2)}x)` : ''),
      );
      rows.push(
        row(
          'push v2',
          r.push2,
          `commit v2 stored ${fmtBytes(r.storedV2)} (${(r.push2.bytes / r.storedV2).toFixed(2)}x)`,
        ),
      );
      rows.push(row('no-op push', r.noop));
      rows.push(
        row(
          'clone (v2)',
          r.clone,
          rDown ? `rclone copy back: ${fmtS(rDown.wall)} (${(r.clone.s / rDown.wall).toFixed(2)}x)` : '',
        ),
      );
      rows.push(
        row(
          'clone --full (v2)',
          r.cloneFull,
          rDown ? `rclone copy back: ${fmtS(rDown.wall)} (${(r.cloneFull.s / rDown.wall).toFixed(2)}x)` : '',
        ),
      );
      rows.push(
        row('pull v2 into a clone at v1', r.pull, `${(r.pull.bytes / r.storedV2).toFixed(2)}x commit v2 stored`),
      );
      // the fine-tune: bytes and time of each step against the commit that stored it
      const against = (x) =>
        `${(x.bytes / ft.commit.stored).toFixed(2)}x the bytes, ${(x.s / ft.commit.s).toFixed(2)}x the time of ` +
        `commit (${fmtBytes(ft.commit.stored)} stored in ${fmtS(ft.commit.s)})`;
      rows.push(row(`push of a 10% fine-tune (${finetuneMib} MiB)`, ft.push, against(ft.push)));
      rows.push(row('pull of it into a clone at v1', ft.pull, against(ft.pull)));
      rows.push(row('pull of it into a clone --full at v1', ft.pullFull, against(ft.pullFull)));
      for (const [what, x] of [
        ['push', ft.push],
        ['pull', ft.pull],
        ['pull (--full clone)', ft.pullFull],
      ])
        bar(
          'remotes',
          `${t.name}: ${what} of a 10% fine-tune moves <= 1.1x the bytes its commit stored`,
          x.bytes <= 1.1 * ft.commit.stored,
          `${fmtBytes(x.bytes)} vs ${fmtBytes(ft.commit.stored)} (${(x.bytes / ft.commit.stored).toFixed(2)}x)`,
        );
      res[t.name].follow = follow;
      for (const [what, m] of [
        ['deploy v2 -> served by a follower', follow.deploy],
        ['rollback to v1 -> served', follow.rollback],
      ])
        rows.push([
          t.name,
          what,
          fmtS(m.servedS),
          fmtBytes(m.bytes),
          '',
          '',
          '',
          `the deploy itself ${fmtS(m.moveS)}; the follower looks every ${follow.interval} s`,
        ]);
      rows.push(
        row(
          'clone --only config.json',
          r.only,
          `${fmtBytes(r.only.bytes)} of ${fmtBytes(r.clone.bytes)} for the whole clone`,
        ),
      );
      bar(
        'remotes',
        `${t.name}: push of v2 moves <= 1.1x the bytes commit of v2 stored`,
        r.push2.bytes <= 1.1 * r.storedV2,
        `${fmtBytes(r.push2.bytes)} vs ${fmtBytes(r.storedV2)} (${(r.push2.bytes / r.storedV2).toFixed(2)}x)`,
      );
      bar(
        'remotes',
        `${t.name}: pull of v2 moves <= 1.1x the bytes commit of v2 stored`,
        r.pull.bytes <= 1.1 * r.storedV2,
        `${fmtBytes(r.pull.bytes)} vs ${fmtBytes(r.storedV2)} (${(r.pull.bytes / r.storedV2).toFixed(2)}x)`,
      );
      bar(
        'remotes',
        `${t.name}: clone --only config.json fetches none of the model's chunks (< 1% of a whole clone)`,
        r.only.bytes < 0.01 * r.clone.bytes,
        `${fmtBytes(r.only.bytes)} of ${fmtBytes(r.clone.bytes)}: every manifest and file object, and the config's ` +
          `chunk`,
      );
      bar(
        'remotes',
        `${t.name}: no-op push makes <= 5 requests`,
        r.noop.requests <= 5,
        `${r.noop.requests} requests, ${r.noop.bytes} bytes`,
      );
      if (rUp)
        bar(
          'remotes',
          `${t.name}: push of v1 <= 1.3x rclone copy of the same file`,
          r.push1.s <= 1.3 * rUp.wall,
          `${fmtS(r.push1.s)} vs ${fmtS(rUp.wall)} (${(r.push1.s / rUp.wall).toFixed(2)}x)`,
        );
      if (rDown)
        bar(
          'remotes',
          `${t.name}: clone <= 1.3x rclone copy of the same file back`,
          r.clone.s <= 1.3 * rDown.wall,
          `${fmtS(r.clone.s)} vs ${fmtS(rDown.wall)} (${(r.clone.s / rDown.wall).toFixed(2)}x)`,
        );
    }
    if (have('restic')) {
      // restic to the same S3 server, and (since restic 0.14 cannot parse some s3rver answers) to a folder
      for (const [label, repo] of [
        ['s3 (s3rver)', `s3:${s3.endpoint}/bench/restic`],
        ['folder', join(base, 'restic-folder')],
      ]) {
        log(`remotes: restic backup A, B to ${label}`);
        const renv = {
          ...plainEnv,
          ...creds,
          RESTIC_PASSWORD: 'bench',
          RESTIC_REPOSITORY: repo,
          RESTIC_CACHE_DIR: join(base, 'restic-cache'),
        };
        const src = join(base, `restic-src-${label.split(' ')[0]}`);
        mkdirSync(src);
        copyFileSync(A, join(src, 'model.safetensors'));
        spawnSync('restic', ['init', '-q'], { env: renv });
        syncDisk();
        const first = run('restic', ['backup', '-q', src], { env: renv, allowFail: true });
        if (first.status !== 0) {
          const why = (first.stderr || '').trim().split('\n').pop();
          rows.push([label, 'restic backup (baseline)', 'failed', '', '', '', '', why]);
          res[`restic ${label}`] = { failed: why };
          continue;
        }
        copyFileSync(B, join(src, 'model.safetensors'));
        syncDisk();
        const second = run('restic', ['backup', '-q', src], { env: renv });
        res[`restic ${label}`] = {
          first: { s: first.wall, rssKB: first.rssKB },
          second: { s: second.wall, rssKB: second.rssKB },
        };
        rmSync(src, { recursive: true, force: true });
        rows.push([
          label,
          'restic backup A (baseline)',
          fmtS(first.wall),
          '',
          fmtRate(sizeA, first.wall),
          '',
          fmtMB(first.rssKB),
          '',
        ]);
        rows.push([label, 'restic backup B (baseline)', fmtS(second.wall), '', '', '', fmtMB(second.rssKB), '']);
      }
    }
  } finally {
    await s3.stop();
    rmSync(base, { recursive: true, force: true });
  }
  const peak = Math.max(...rssAll);
  res.peakRssKB = peak;
  table(
    `Remotes: ${fmtBytes(sizeA)} model, v1 -> v2`,
    ['target', 'operation', 'wall', 'bytes moved', 'rate', 'requests', 'peak RSS', 'against'],
    rows,
  );
  say('');
  say(
    'Bytes moved are as stored (compressed); rclone copies the raw file. The pull is `mvm pull` in a clone made at ' +
      'v1, after v2 was pushed; its bytes include the chunks the checkout fetched. A clone is a partial store ' +
      '(chunks only in the checked-out files); `clone --full` also keeps every chunk in its store. The fine-tune ' +
      `rows: a ${finetuneMib} MiB bf16 model with every tenth tensor moved by 10% of its spread, committed, pushed ` +
      '(its changed chunks travel as the deltas commit stored) and pulled into clones made at v1; each against ' +
      "the commit's stored bytes and wall time.",
  );
  bar('remotes', 'peak RSS of every push, clone and pull < 300 MB', peak < 300 * 1024, fmtMB(peak));
  return res;
}
