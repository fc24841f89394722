// A metadata-only history of a large sharded model written to a remote through mvm's own writers: manifests and file
// objects encoded by core/objects and the object codec, packed by storage/remote/packs (writePack, as a push packs
// them), the remote made and numbered as a push makes it. No chunk bytes: every chunk id is a random 32-byte id
// (a fine-tune end to end changes every chunk), except one small real file (config.json) whose chunk is stored, so
// a clone can check out something. Shared by bench/metadata.mjs and the S3 simulation of docs/SCALE.md.
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = join(dirname(dirname(dirname(fileURLToPath(import.meta.url)))), 'dist');
const load = (p) => import(join(dist, p));
const { encodeJsonObject, decodeFileObject, decodeVersion, OBJECT_FORMAT } = await load('core/objects.js');
const { MemoryObjectStore } = await load('storage/memoryObjectStore.js');
const { chunksMarkerKey, indexKey, packLayout, writePack } = await load('storage/remote/packs.js');
const { initRemote } = await load('repo/transfer/remoteSession.js');
const { formatNumberLog } = await load('storage/numbers.js');
const { PACK_PART_SIZE, PACK_SIZE } = await load('core/limits.js');

/** The small real file every version holds (a clone can check out just this one: `--only config.json`). */
export const CONFIG_JSON = Buffer.from(
  `${JSON.stringify({ architectures: ['LlamaForCausalLM'], hidden_size: 8192, num_hidden_layers: 80 }, null, 2)}\n`,
);

/** Shard names as Hugging Face writes them. */
export const shardName = (i, n) =>
  `model-${String(i + 1).padStart(5, '0')}-of-${String(n).padStart(5, '0')}.safetensors`;

/**
 * One file object of `size` bytes in chunks of `chunkSize`, every chunk id random (a fine-tune that moved every
 * tensor), as core/objects encodes it.
 */
function fileObject(size, chunkSize) {
  const n = Math.ceil(size / chunkSize);
  const ids = randomBytes(32 * n).toString('hex');
  const chunks = [];
  for (let i = 0; i < n; i++)
    chunks.push({ id: ids.slice(64 * i, 64 * i + 64), size: i < n - 1 ? chunkSize : size - chunkSize * (n - 1) });
  return { type: 'file', format: OBJECT_FORMAT, size, chunkSize, chunks };
}

/**
 * Writes the history to `backend` (an empty remote): `versions` versions of a `modelBytes` model in `shards`
 * safetensors shards plus config.json, each the parent's fine-tune, with metrics and params a query can select on;
 * `perPush` versions per push (each push: a pack of its file objects, then a pack of its manifests, as push writes
 * them). With `chunkIndexes`, each push also writes the pack indexes its chunks' packs would have (chunks of
 * `storedRatio` of their size, in packs of PACK_SIZE; the indexes only, not the packs), marked as chunks only and
 * named by the file objects' `chunkPacks` as push writes them, to measure what the pack indexes cost a clone of a
 * remote that holds the weights too. With `after` (the ids a call wrote before), appends versions up to
 * `versions` in all, as the next push would. Returns the version ids oldest first and what was written.
 */
export async function writeMetadataHistory(backend, opts) {
  const { versions, shards, modelBytes, chunkSize, perPush = 1, level = 3, onVersion } = opts;
  const { chunkIndexes = false, storedRatio = 0.67, after = null } = opts;
  // `after`: the ids of the versions already on this remote (written by an earlier call): the new versions follow
  // them as one more push would, and the branch and the numbers move from where they were
  const s = { remote: { name: 'origin', url: backend.url }, backend, exists: !!after };
  await initRemote(s);
  const shardBytes = Math.floor(modelBytes / shards);
  const ids = after ? [...after] : [];
  const totals = { fileObjects: 0, fileObjectBytes: 0, manifestBytes: 0, packs: 0, chunkIdsPerVersion: 0 };
  totals.chunkIndexes = 0;
  totals.chunkIndexBytes = 0;
  let pendingChunks = [];
  // config.json's one chunk and its file object, sent once with the first push
  let store = new MemoryObjectStore({ level });
  const configChunk = store.put(CONFIG_JSON);
  const configFile = store.put(
    encodeJsonObject({
      type: 'file',
      format: OBJECT_FORMAT,
      size: CONFIG_JSON.length,
      chunkSize,
      chunks: [{ id: configChunk, size: CONFIG_JSON.length }],
    }),
  );
  let pendingFiles = after ? [] : [configChunk, configFile];
  let pendingVersions = [];
  const chunksOf = new Map();
  const flush = async () => {
    const read = (id) => store.readStored(id);
    const sized = (list) => list.map((id) => ({ id, length: store.storedSize(id) }));
    // as push: the chunks' packs (here their indexes only, marked as chunks only), the file objects in packs of
    // at most PACK_SIZE naming their chunks' packs, then the manifests
    const packOf = new Map();
    for (const group of cut(pendingChunks, PACK_SIZE)) {
      const layout = packLayout(group);
      const index = Buffer.from(JSON.stringify(layout.index));
      await backend.write(chunksMarkerKey(layout.id), Buffer.alloc(0));
      await backend.write(indexKey(layout.id), index);
      for (const [id] of layout.index.objects) packOf.set(id, layout.id);
      totals.chunkIndexes++;
      totals.chunkIndexBytes += index.length;
    }
    for (const group of cut(sized(pendingFiles), PACK_SIZE)) {
      const described = group.filter((o) => chunksOf.has(o.id));
      const kind = described.length
        ? {
            chunkPacks: Object.fromEntries(
              described.map((o) => [o.id, [...new Set(chunksOf.get(o.id).map((c) => packOf.get(c)))].sort()]),
            ),
          }
        : undefined;
      await writePack(backend, group, read, PACK_PART_SIZE, undefined, kind);
      totals.packs++;
    }
    chunksOf.clear();
    for (const group of cut(sized(pendingVersions), PACK_SIZE)) {
      await writePack(backend, group, read, PACK_PART_SIZE);
      totals.packs++;
    }
    pendingChunks = [];
    pendingFiles = [];
    pendingVersions = [];
    store = new MemoryObjectStore({ level });
  };
  let parent = after ? after[after.length - 1] : null;
  const t0 = Date.parse('2026-01-01T00:00:00Z');
  for (let v = ids.length; v < versions; v++) {
    const files = { 'config.json': { file: configFile, mode: 0o644, size: CONFIG_JSON.length } };
    for (let i = 0; i < shards; i++) {
      const f = fileObject(shardBytes, chunkSize);
      const bytes = encodeJsonObject(f);
      if (v === 0 && i === 0) decodeFileObject(bytes, 'check'); // the shape is one mvm reads
      const id = store.put(bytes);
      totals.fileObjects++;
      totals.fileObjectBytes += store.storedSize(id);
      if (i === 0) totals.chunkIdsPerVersion = 0;
      totals.chunkIdsPerVersion += f.chunks.length;
      files[shardName(i, shards)] = { file: id, mode: 0o644, size: shardBytes };
      pendingFiles.push(id);
      if (chunkIndexes) {
        for (const c of f.chunks) pendingChunks.push({ id: c.id, length: Math.round(c.size * storedRatio) });
        chunksOf.set(
          id,
          f.chunks.map((c) => c.id),
        );
      }
    }
    const version = {
      type: 'version',
      format: OBJECT_FORMAT,
      parents: parent ? [parent] : [],
      author: 'bench <bench@example.com>',
      time: new Date(t0 + v * 3_600_000).toISOString(),
      message: `fine-tune step ${v + 1}`,
      files,
      meta: { dataset: `corpus-${v % 7}` },
      params: { lr: [1e-4, 3e-4, 1e-3, 3e-3][v % 4], step: v + 1 },
      metrics: { accuracy: 0.5 + (0.45 * ((v * 7919) % 1000)) / 1000, loss: 2 - (v % 100) / 60 },
      deps: parent ? { base: parent } : {},
    };
    const bytes = encodeJsonObject(version);
    if (v === 0) decodeVersion(bytes, 'x');
    const id = store.put(bytes);
    totals.manifestBytes += store.storedSize(id);
    pendingVersions.push(id);
    ids.push(id);
    parent = id;
    if ((v + 1) % perPush === 0 || v === versions - 1) await flush();
    onVersion?.(v + 1);
  }
  // refs and numbers last, as a push moves them
  const tagOf = async (key) => (after ? ((await backend.read(key))?.tag ?? null) : null);
  await backend.swap('refs/heads/main', Buffer.from(`${parent}\n`), await tagOf('refs/heads/main'));
  await backend.swap('numbers', formatNumberLog(ids), await tagOf('numbers'));
  return { ids, ...totals };
}

/** Cuts objects into groups of at most `max` stored bytes, in order (push's `groups`). */
function cut(objects, max) {
  const out = [];
  let cur = [];
  let size = 0;
  for (const o of objects) {
    if (cur.length && size + o.length > max) {
      out.push(cur);
      cur = [];
      size = 0;
    }
    cur.push(o);
    size += o.length;
  }
  if (cur.length) out.push(cur);
  return out;
}
