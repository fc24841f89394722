import { envDeltasOff } from '../../settings.js';
import { open, type FileHandle } from 'node:fs/promises';
import { fromSystemError, MvmError } from '../../errors.js';
import type { ChunkPool } from '../../storage/chunkPool.js';
import { blake3Hex } from '../../storage/hash.js';
import { groupKindForDtype } from '../../storage/bytegroup.js';
import type { GroupChoice } from '../../storage/codec.js';
import { planChunks, type ChunkSpan } from '../../core/chunking.js';
import { detectLayout } from '../../core/formats/detect.js';
import { sidecarLayout } from './sidecarLayout.js';
import { fdSource } from './fileSource.js';
import type { Layout } from '../../core/formats/types.js';
import {
  encodeJsonObject,
  OBJECT_FORMAT,
  type ChunkRef,
  type FileObject,
  type TensorEntry,
} from '../../core/objects.js';
import { type Repository, bounded, partialRemote } from '../repository/index.js';
import type { OnBytes } from './fileio.js';

/** The result of chunking one workspace file. */
export interface ChunkedFile {
  /** Id of the file object (whether or not it was stored). */
  id: string;
  file: FileObject;
  /** Chunks written now (absent before), and their stored (compressed) size. */
  newChunks: number;
  newBytes: number;
  storedBytes: number;
}

/** Chunks per worker task: small enough to balance the cores, large enough that messages cost nothing. */
export const CHUNKS_PER_TASK = 8;

/** Detects the model layout of an open file at `abs`; never fails (odd files get no layout). */
async function layoutOf(fh: FileHandle, size: number, abs: string): Promise<Layout | null> {
  try {
    return (await detectLayout(fdSource(fh.fd, size))) ?? (await sidecarLayout(abs, size));
  } catch {
    return null;
  }
}

/**
 * Cuts a workspace file into chunks (tensor-aligned when it is a model file
 * mvm recognises) and hashes them on the worker pool; with `store`, also
 * compresses and writes new chunks and the file object. Memory stays bounded
 * by the pool's capacity whatever the file size. Throws if the file changes
 * while it is read.
 */
export async function chunkFile(
  repo: Repository,
  pool: ChunkPool,
  abs: string,
  opts: { store: boolean; onBytes?: OnBytes; parent?: FileObject | null },
): Promise<ChunkedFile> {
  let fh: FileHandle;
  try {
    fh = await open(abs, 'r');
  } catch (e) {
    throw fromSystemError(e, abs, 'reading');
  }
  try {
    const before = await fh.stat({ bigint: true });
    const size = Number(before.size);
    const layout = await layoutOf(fh, size, abs);
    const spans = planChunks(size, repo.config.chunkSize, layout?.tensors ?? [], layout?.packed ?? []);
    // MVM_DELTAS=0 stores every chunk whole (to compare)
    // the parent's chunk at the same place: a delta base when it is here, and in a partial
    // store (which may lack it) known to be on the remote, so an unchanged chunk is not stored again
    const alike = opts.store && layout && opts.parent?.layout ? deltaBases(layout, spans, opts.parent) : null;
    // whether a base is stored is asked by the worker, and only for a chunk that changed (a gone base leaves it whole):
    // asking here, for every chunk, cost a file lookup each on the command's path before any read began
    const bases = alike && !envDeltasOff() ? alike : null;
    const held =
      opts.store && opts.parent && partialRemote(repo)
        ? spans.map((_, i) => alike?.[i] ?? opts.parent!.chunks[i]?.id)
        : null;
    const chunks: ChunkRef[] = new Array(spans.length);
    let newChunks = 0;
    let newBytes = 0;
    let storedBytes = 0;
    // Workers take runs of chunks and read, hash and (when new) compress and write them
    // themselves, so every core reads and hashes and no chunk buffer crosses threads.
    const counted = new Set<string>();
    const runs: number[] = [];
    for (let i = 0; i < spans.length; i += CHUNKS_PER_TASK) runs.push(i);
    await bounded(runs.length, pool.capacity, async (k) => {
      const first = runs[k]!;
      const part = spans.slice(first, first + CHUNKS_PER_TASK);
      const r = await pool.submit({
        op: 'range',
        path: abs,
        spans: part.map((sp, j) => {
          const base = bases?.[first + j];
          const had = held?.[first + j];
          return {
            start: sp.start,
            end: sp.end,
            group: groupOf(layout, sp),
            ...(base ? { base, tensor: sp.tensor } : {}),
            ...(had ? { held: had } : {}),
          };
        }),
        write: opts.store,
        store: repo.objects.workerHandle(),
      });
      repo.objects.acceptPacked(r.packed);
      r.chunks.forEach((c, j) => {
        chunks[first + j] = { id: c.id, size: c.size };
        // two workers may both write a chunk that occurs twice (tied weights): count it once
        if (c.isNew && !counted.has(c.id)) {
          counted.add(c.id);
          newChunks++;
          newBytes += c.size;
          storedBytes += c.storedBytes;
        }
      });
      opts.onBytes?.(r.size);
    });
    // the small chunks are stored once their pack is in place, before a file object names them
    if (opts.store) repo.objects.flushPacks();
    const after = await fh.stat({ bigint: true });
    if (after.size !== before.size || after.mtimeNs !== before.mtimeNs) {
      throw new MvmError('IO_ERROR', `${abs} changed while it was being read`, {
        path: abs,
        hint: 'wait until the file is fully written and run the command again',
      });
    }
    const file: FileObject = { type: 'file', format: OBJECT_FORMAT, size, chunkSize: repo.config.chunkSize, chunks };
    if (layout) {
      file.layout = { format: layout.format, tensors: tensorEntries(layout, spans) };
      const unlisted = (layout.packed ?? []).reduce((n, r) => n + r.count, 0);
      if (unlisted) file.layout.unlisted = unlisted;
    }
    const encoded = encodeJsonObject(file);
    const id = opts.store ? repo.objects.put(encoded) : blake3Hex(encoded);
    return { id, file, newChunks, newBytes, storedBytes };
  } finally {
    await fh.close();
  }
}

/**
 * For each span of a tensor, the parent version's chunk at the same place of
 * the same tensor (same name, dtype and shape; same chunk size), which the
 * chunk may be stored as a delta against (storage/delta.ts); undefined for
 * the rest. A parent tensor of dtype `unknown` (its format did not say, or
 * an older mvm could not read it: a PyTorch storage before its pickle was
 * read) counts when its byte size matches; one whose name is gone from this
 * version counts at the same bytes of the file. Any base is safe: a delta is
 * kept only when it is smaller.
 */
function deltaBases(layout: Layout, spans: ChunkSpan[], parent: FileObject): (string | undefined)[] {
  const before = new Map(parent.layout!.tensors.map((t) => [t.name, t]));
  const names = new Set(layout.tensors.map((t) => t.name));
  const atPlace = new Map(
    parent.layout!.tensors.filter((t) => !names.has(t.name)).map((t) => [`${t.start}:${t.end}`, t]),
  );
  const fits = (p: TensorEntry, t: Layout['tensors'][number]) =>
    p.dtype === 'unknown'
      ? p.end - p.start === t.end - t.start
      : p.dtype === t.dtype && p.shape.length === t.shape.length && p.shape.every((d, j) => d === t.shape[j]);
  const out: (string | undefined)[] = new Array(spans.length);
  let tensor = -1;
  let k = 0;
  spans.forEach((sp, i) => {
    if (sp.tensor < 0) return;
    k = sp.tensor === tensor ? k + 1 : 0;
    tensor = sp.tensor;
    const t = layout.tensors[sp.tensor]!;
    const p = before.get(t.name) ?? atPlace.get(`${t.start}:${t.end}`);
    if (!p || !fits(p, t)) return;
    const c = parent.chunks[p.chunkStart + k];
    if (p.chunkStart + k < p.chunkEnd && c && c.size === sp.end - sp.start) out[i] = c.id;
  });
  return out;
}

/**
 * How a span's bytes are grouped before compression: by its tensor's (or
 * packed run's) dtype; in a file of no known format, or in a tensor whose
 * dtype its format does not say (a PyTorch storage of a class its pickle
 * names no dtype for; HDF5 opaque data without Keras' bf16 mark), by what a sample of the chunk compresses best
 * with ('auto').
 */
function groupOf(layout: Layout | null, sp: ChunkSpan): GroupChoice {
  if (!layout) return 'auto';
  const dtype =
    sp.tensor >= 0 ? layout!.tensors[sp.tensor]!.dtype : sp.run !== undefined ? layout!.packed![sp.run]!.dtype : null;
  if (dtype === 'unknown') return 'auto';
  return dtype ? groupKindForDtype(dtype) : null;
}

function tensorEntries(layout: Layout, spans: { tensor: number }[]): TensorEntry[] {
  const first = new Map<number, number>();
  const last = new Map<number, number>();
  spans.forEach((s, i) => {
    if (s.tensor < 0) return;
    if (!first.has(s.tensor)) first.set(s.tensor, i);
    last.set(s.tensor, i + 1);
  });
  let cursor = 0;
  return layout.tensors.map((t, i) => {
    // zero-size tensors own no chunks: give them an empty range where they sit
    const start = first.get(i) ?? cursor;
    const end = last.get(i) ?? start;
    cursor = end;
    return {
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      start: t.start,
      end: t.end,
      chunkStart: start,
      chunkEnd: end,
    };
  });
}
