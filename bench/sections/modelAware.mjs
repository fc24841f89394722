// The model-aware storage section: header shift, append and resize, f32 compression, throughput.
import { copyFileSync, mkdirSync, rmSync, openSync, readSync, closeSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { planModel, writeModel, readHeader } from '../gen.mjs';
import { median, fmtS, fmtBytes, pct } from '../lib/format.mjs';
import { log, table, bar } from '../lib/report.mjs';
import { run, mvm, mvmJson, syncDisk, duSb, fileSize, noteRss } from '../lib/proc.mjs';
import { ROOT, CHUNK, opts, TMP, DEDUP_SIZE, seedOf } from '../lib/setup.mjs';

/**
 * The baseline mvm is compared with: plain fixed-size chunks from offset 0, hashed with BLAKE3 (sha256 if
 * unavailable).
 */
function fixedChunkHashes(path, chunk = CHUNK) {
  const require = createRequire(join(ROOT, 'package.json'));
  let hash;
  try {
    const { blake3 } = require('@napi-rs/blake-hash');
    hash = (b) => blake3(b).toString('hex');
  } catch {
    const { createHash } = require('node:crypto');
    hash = (b) => createHash('sha256').update(b).digest('hex');
  }
  const fd = openSync(path, 'r');
  const buf = Buffer.alloc(chunk);
  const list = [];
  try {
    for (let pos = 0; ; pos += chunk) {
      const n = readSync(fd, buf, 0, chunk, pos);
      if (n <= 0) break;
      list.push({ id: hash(buf.subarray(0, n)), size: n });
      if (n < chunk) break;
    }
  } finally {
    closeSync(fd);
  }
  return list;
}

/**
 * Commits a first and a second file (each with its commit message) as model.safetensors in a new workspace `dir`:
 * the second commit's run (its --json output in `json`) and how much .mvm/objects grew with it.
 */
function commitPair(dir, [first, m1], [second, m2], label) {
  mkdirSync(dir);
  copyFileSync(first, join(dir, 'model.safetensors'));
  mvm(dir, 'init');
  mvm(dir, 'add', 'model.safetensors');
  noteRss('commit (first)', mvmJson(dir, 'commit', '-m', m1), fileSize(first));
  const before = duSb(join(dir, '.mvm', 'objects'));
  copyFileSync(second, join(dir, 'model.safetensors'));
  const commit = noteRss(label, mvmJson(dir, 'commit', '-m', m2), fileSize(second));
  return { commit, growth: duSb(join(dir, '.mvm', 'objects')) - before };
}

export function runModelAware(results, c) {
  const { sizeA, med, storedFirst, z1Size, z2Size, firstRuns, commitRuns, z1Runs, z2Runs } = c;
  const { statsRate, statsWallRate } = c;
  // ------------------------------------------------------------ model-aware storage
  log(`model-aware: header shift on a ${fmtBytes(DEDUP_SIZE)} model`);
  const aware = {};
  const mt = planModel(DEDUP_SIZE);
  const H0 = join(TMP, 'H0.safetensors');
  const H1 = join(TMP, 'H1.safetensors');
  writeModel(H0, mt, { seedOf: seedOf('h'), metadata: { format: 'pt', note: 'base' } });
  // a longer __metadata__: the JSON header grows by a few hundred bytes, shifting every tensor
  writeModel(H1, mt, {
    seedOf: seedOf('h'),
    metadata: { format: 'pt', note: 'base', description: 'fine-tuned on a new dataset; '.repeat(12) + 'x'.repeat(5) },
  });
  const h0 = readHeader(H0).dataStart;
  const h1 = readHeader(H1).dataStart;
  const shift = h1 - h0;
  const hsize = fileSize(H1);
  const hws = join(TMP, 'hshift');
  const { commit: hc, growth: hGrowth } = commitPair(hws, [H0, 'h0'], [H1, 'h1'], 'commit (header shift)');
  const fa = fixedChunkHashes(H0);
  const fb = fixedChunkHashes(H1);
  const seen = new Set(fa.map((c) => c.id));
  const fixedNew = fb.filter((c) => !seen.has(c.id)).reduce((s, c) => s + c.size, 0);
  aware.headerShift = {
    size: hsize,
    headerShiftBytes: shift,
    shiftModChunk: shift % CHUNK,
    mvmNewRaw: hc.json.newBytes,
    mvmNewChunks: hc.json.newChunks,
    mvmObjectsGrowth: hGrowth,
    fixedChunkNewBytes: fixedNew,
    fixedChunks: fb.length,
    commitSeconds: hc.wall,
  };
  rmSync(hws, { recursive: true, force: true });
  rmSync(H1);

  log('model-aware: one tensor appended, one resized');
  const EMB = [32000, 1024];
  const base = [
    { name: 'model.embed_tokens.weight', shape: EMB },
    ...planModel(Math.max(DEDUP_SIZE - EMB[0] * EMB[1] * 2, 1)),
  ];
  const grown = [
    { name: 'model.embed_tokens.weight', shape: [EMB[0] + 256, EMB[1]] },
    ...base.slice(1),
    { name: 'score.weight', shape: [4096, 1024] },
  ];
  const R0 = join(TMP, 'R0.safetensors');
  const R1 = join(TMP, 'R1.safetensors');
  // same seeds: the embedding keeps its first 32000 rows (AES-CTR streams share their prefix)
  writeModel(R0, base, { seedOf: seedOf('r'), metadata: { format: 'pt' } });
  const r1w = writeModel(R1, grown, { seedOf: seedOf('r'), metadata: { format: 'pt' } });
  const rws = join(TMP, 'resize');
  const { commit: rc2, growth: rGrowth } = commitPair(rws, [R0, 'r0'], [R1, 'r1'], 'commit (append+resize)');
  const appended = 4096 * 1024 * 2;
  const resized = (EMB[0] + 256) * EMB[1] * 2;
  const grownRows = 256 * EMB[1] * 2;
  const denomFull = r1w.headerBytes + appended + resized;
  const denomNew = r1w.headerBytes + appended + grownRows;
  aware.appendResize = {
    size: fileSize(R1),
    headerBytes: r1w.headerBytes,
    appendedBytes: appended,
    resizedTensorBytes: resized,
    grownBytes: grownRows,
    mvmNewRaw: rc2.json.newBytes,
    mvmNewChunks: rc2.json.newChunks,
    mvmObjectsGrowth: rGrowth,
    ratioVsTensorsAndHeader: rc2.json.newBytes / denomFull,
    ratioVsNewBytes: rc2.json.newBytes / denomNew,
  };
  rmSync(rws, { recursive: true, force: true });
  rmSync(R0);
  rmSync(R1);

  log(`model-aware: f32 compression on a ${fmtBytes(DEDUP_SIZE)} model`);
  const F = join(TMP, 'F.safetensors');
  writeModel(F, planModel(DEDUP_SIZE, 4), { seedOf: seedOf('f'), dtype: 'F32', metadata: { format: 'pt' } });
  const fsize = fileSize(F);
  const fws = join(TMP, 'f32');
  mkdirSync(fws);
  copyFileSync(F, join(fws, 'model.safetensors'));
  syncDisk();
  const fcRuns = [];
  const fzRuns = [];
  let fStored = 0,
    fz = 0;
  for (let rep = 0; rep < Math.min(opts.reps, 2); rep++) {
    rmSync(join(fws, '.mvm'), { recursive: true, force: true });
    rmSync(join(fws, '.gitignore'), { force: true });
    mvm(fws, 'init');
    mvm(fws, 'add', 'model.safetensors');
    syncDisk();
    fcRuns.push(noteRss('commit (first)', mvmJson(fws, 'commit', '-m', 'f32'), fsize));
    fStored = duSb(join(fws, '.mvm', 'objects'));
    syncDisk();
    fzRuns.push(run('zstd', ['-q', '-f', '-T1', '-3', F, '-o', F + '.zst']));
    fz = fileSize(F + '.zst');
  }
  aware.f32 = {
    size: fsize,
    mvmObjectsBytes: fStored,
    mvmStoredJson: fcRuns[0].json.storedBytes,
    zstdT1Bytes: fz,
    mvmCommitSeconds: fcRuns.map((r) => r.wall),
    zstdT1Seconds: fzRuns.map((r) => r.wall),
  };
  rmSync(fws, { recursive: true, force: true });
  rmSync(F);
  rmSync(F + '.zst', { force: true });

  const bfRatio = storedFirst / sizeA;
  const zRatio = z1Size / sizeA;
  const f32Ratio = fStored / fsize;
  const f32Z = fz / fsize;
  const mvmMBs = sizeA / 1e6 / med.first;
  const mvmCommitMBs = sizeA / 1e6 / med.commitOnly;
  const z1MBs = sizeA / 1e6 / med.z1;
  const restoreMBs = sizeA / 1e6 / med.full;
  const cpMBs = sizeA / 1e6 / med.cp;
  aware.compression = {
    bf16: { raw: sizeA, mvm: storedFirst, zstdT1: z1Size, zstdT2: z2Size },
    f32: { raw: fsize, mvm: fStored, zstdT1: fz },
  };
  aware.throughput = {
    mvmFirstCommitMBs: mvmMBs,
    mvmCommitOnlyMBs: mvmCommitMBs,
    zstdT1MBs: z1MBs,
    zstdT2MBs: sizeA / 1e6 / med.z2,
    restoreMBs,
    switchMBs: sizeA / 1e6 / med.switch,
    zstdDMBs: sizeA / 1e6 / med.zd,
    cpMBs,
  };
  aware.diffStats = { statsRateMBs: statsRate / 1e6, wallRateMBs: statsWallRate / 1e6 };
  results.sections.modelAware = aware;

  const hs = aware.headerShift;
  const ar = aware.appendResize;
  table(
    'Model-aware storage: deduplication',
    ['case', 'file', 'changed', 'mvm new (raw)', 'mvm objects growth', 'fixed 1 MiB chunks new', 'ratio'],
    [
      [
        `header shift (+${hs.headerShiftBytes} B header, ${hs.shiftModChunk} mod 1 MiB)`,
        fmtBytes(hs.size),
        '__metadata__ only',
        `${fmtBytes(hs.mvmNewRaw)} (${pct(hs.mvmNewRaw / hs.size)})`,
        `${fmtBytes(hs.mvmObjectsGrowth)} (${pct(hs.mvmObjectsGrowth / hs.size)})`,
        `${fmtBytes(hs.fixedChunkNewBytes)} (${pct(hs.fixedChunkNewBytes / hs.size)})`,
        `mvm ${pct(hs.mvmNewRaw / hs.size)} vs fixed ${pct(hs.fixedChunkNewBytes / hs.size)}`,
      ],
      [
        'append 8 MiB tensor + embedding 32000->32256 rows',
        fmtBytes(ar.size),
        `header ${fmtBytes(ar.headerBytes)} + appended ${fmtBytes(ar.appendedBytes)} + resized ` +
          `${fmtBytes(ar.resizedTensorBytes)} (grown part ${fmtBytes(ar.grownBytes)})`,
        fmtBytes(ar.mvmNewRaw),
        fmtBytes(ar.mvmObjectsGrowth),
        '',
        `${ar.ratioVsTensorsAndHeader.toFixed(3)} of (header+new+resized); ${ar.ratioVsNewBytes.toFixed(3)} of ` +
          `(header+new+grown rows)`,
      ],
    ],
  );
  table(
    'Model-aware storage: compression and throughput',
    ['measure', 'mvm', 'plain zstd', 'ratio'],
    [
      [
        `bf16 N(0,0.02), ${fmtBytes(sizeA)}: stored / raw`,
        pct(bfRatio),
        `zstd -3: ${pct(zRatio)} (-T2: ${pct(z2Size / sizeA)})`,
        `mvm/zstd ${(storedFirst / z1Size).toFixed(3)}`,
      ],
      [
        `f32 N(0,0.02), ${fmtBytes(fsize)}: stored / raw`,
        pct(f32Ratio),
        `zstd -3: ${pct(f32Z)}`,
        `mvm/zstd ${(fStored / fz).toFixed(3)}`,
      ],
      [
        `f32: time (median of ${fcRuns.length})`,
        fmtS(median(fcRuns.map((r) => r.wall))),
        `zstd -T1 -3: ${fmtS(median(fzRuns.map((r) => r.wall)))}`,
        '',
      ],
      [
        'compress+hash throughput (first commit, init+add+commit)',
        `${mvmMBs.toFixed(0)} MB/s (commit alone ${mvmCommitMBs.toFixed(0)} MB/s)`,
        `zstd -T1 -3: ${z1MBs.toFixed(0)} MB/s`,
        `${(mvmMBs / z1MBs).toFixed(2)}x`,
      ],
      [
        'CPU seconds (user+sys) of that first commit',
        `${fmtS(median(firstRuns.map((r) => r.user + r.sys)))} (commit alone ` +
          `${fmtS(median(commitRuns.map((r) => r.user + r.sys)))})`,
        `zstd -T1 -3: ${fmtS(median(z1Runs.map((r) => r.user + r.sys)))}; -T2: ` +
          `${fmtS(median(z2Runs.map((r) => r.user + r.sys)))}`,
        `${(median(commitRuns.map((r) => r.user + r.sys)) / median(z1Runs.map((r) => r.user + r.sys))).toFixed(
          2,
        )}x zstd -T1 CPU`,
      ],
      [
        'full restore (checkout of a deleted file)',
        `${restoreMBs.toFixed(0)} MB/s`,
        `zstd -d: ${(sizeA / 1e6 / med.zd).toFixed(0)} MB/s; cp: ${cpMBs.toFixed(0)} MB/s`,
        `${(restoreMBs / cpMBs).toFixed(2)}x cp`,
      ],
      [
        'diff --stats v1 v2',
        `${(statsRate / 1e6).toFixed(0)} MB/s (statsBytes/statsSeconds); ${(statsWallRate / 1e6).toFixed(0)} MB/s ` +
          `(bytes/wall)`,
        '',
        '',
      ],
    ],
  );

  bar(
    'model-aware',
    'header shift: second commit stores < 2% of the file anew',
    hs.mvmNewRaw < 0.02 * hs.size,
    `mvm ${pct(hs.mvmNewRaw / hs.size)} raw new (${hs.mvmNewChunks} chunks; objects ` +
      `+${pct(hs.mvmObjectsGrowth / hs.size)}); fixed 1 MiB chunking would store ` +
      `${pct(hs.fixedChunkNewBytes / hs.size)}`,
  );
  bar(
    'model-aware',
    'append + resize: new bytes ~ only new/resized tensors + header (ratio <= 1.05)',
    ar.ratioVsTensorsAndHeader <= 1.05,
    `new raw ${fmtBytes(ar.mvmNewRaw)} = ${ar.ratioVsTensorsAndHeader.toFixed(3)}x (header+appended+resized ` +
      `tensor); ${ar.ratioVsNewBytes.toFixed(3)}x (header+appended+grown rows)`,
  );
  bar(
    'model-aware',
    'bf16 N(0,0.02): stored <= 72% of raw',
    bfRatio <= 0.72,
    `mvm ${pct(bfRatio)}, plain zstd -3 ${pct(zRatio)}`,
  );
  bar(
    'model-aware',
    'f32 N(0,0.02): mvm stores less than plain zstd -3 (no absolute bar)',
    f32Ratio < f32Z,
    `mvm ${pct(f32Ratio)}, plain zstd -3 ${pct(f32Z)}`,
  );
  bar(
    'model-aware',
    'compress+hash throughput >= 2x zstd -T1 -3',
    mvmMBs >= 2 * z1MBs,
    `${mvmMBs.toFixed(0)} MB/s (init+add+commit) vs zstd -T1 -3 ${z1MBs.toFixed(0)} MB/s = ` +
      `${(mvmMBs / z1MBs).toFixed(2)}x (commit alone ${(mvmCommitMBs / z1MBs).toFixed(2)}x)`,
  );
  bar(
    'model-aware',
    'full restore >= 1 GB/s',
    restoreMBs >= 1000,
    `${restoreMBs.toFixed(0)} MB/s; cp of the same file ${cpMBs.toFixed(0)} MB/s, zstd -d ` +
      `${(sizeA / 1e6 / med.zd).toFixed(0)} MB/s`,
  );
  bar('model-aware', `mvm diff of two ${fmtBytes(sizeA)} versions < 0.3 s`, med.diff < 0.3, `median ${fmtS(med.diff)}`);
  bar(
    'model-aware',
    'diff --stats streams >= 500 MB/s',
    statsRate >= 500e6,
    `${(statsRate / 1e6).toFixed(0)} MB/s by statsBytes/statsSeconds; ${(statsWallRate / 1e6).toFixed(0)} MB/s by ` +
      `bytes/wall`,
  );
  bar(
    'kernels',
    'diff --stats streams >= 1 GB/s',
    statsRate >= 1e9,
    `${(statsRate / 1e6).toFixed(0)} MB/s by statsBytes/statsSeconds (the streaming phase: the threads start ` +
      `earlier, while the manifests are compared); ${(statsWallRate / 1e6).toFixed(0)} MB/s by bytes/wall`,
  );
}
