import type { FileObject } from '../../core/objects.js';
import { groupKindFromCode } from '../../storage/bytegroup.js';
import { DELTA_PREFIX, Encoding, HEADER_SIZE } from '../../storage/codec.js';
import type { Repository } from '../repository/index.js';

/**
 * How many of a tensor's (or a file's) chunks each encoding stores. Keys:
 * `raw`, `zstd`, `planes:<kind>` (byte planes of that grouping, each plane
 * raw or zstd), `delta:<kind>` (a difference from another chunk), `absent`
 * (not in this store: a partial clone fetches chunks when they are read) and
 * `unknown` (a header this mvm does not know).
 */
export type EncodingCounts = Record<string, number>;

/** One tensor of a stored model file: what its format says, and how its chunks are stored. */
export interface TensorListing {
  name: string;
  dtype: string;
  shape: number[];
  /** Its bytes in the file. */
  bytes: number;
  chunks: number;
  encodings: EncodingCounts;
  /**
   * Stored bytes of its chunks, each distinct chunk of the file counted once,
   * by the first tensor (in file order) that holds it; a delta counts its own
   * bytes, not its base's.
   */
  stored: number;
  /** Its chunks whose bytes an earlier tensor (or part of this one) of the same file already holds: stored 0 here. */
  sharedChunks: number;
}

/** What no listed tensor holds: header, padding, packed runs of small tensors, a file of no known format. */
export interface OtherBytes {
  bytes: number;
  chunks: number;
  encodings: EncodingCounts;
  stored: number;
  sharedChunks: number;
}

/** One tracked file of a version, tensor by tensor. */
export interface FileTensors {
  path: string;
  /** The model format mvm read, or null when it cut the file in plain fixed-size chunks. */
  format: string | null;
  size: number;
  chunks: number;
  /** Stored bytes of the file's distinct chunks (the sum of its tensors' and `other`'s). */
  stored: number;
  /** Chunks not in this store (a partial clone), whose stored size is unknown and counted as 0. */
  absentChunks: number;
  tensors: TensorListing[];
  other: OtherBytes;
  /** Small tensors not listed (a file of very many: they were chunked in packed runs, counted in `other`). */
  unlisted?: number;
}

/** The header bytes of one stored chunk, as much as names its encoding. */
interface ChunkFacts {
  encoding: string;
  stored: number;
}

/** Reads how each chunk is stored, once per id; reads headers only, never decodes, never fetches. */
class ChunkFactsCache {
  private readonly facts = new Map<string, ChunkFacts>();
  constructor(private readonly repo: Repository) {}

  /** Stored bytes of every distinct chunk read so far. */
  total(): number {
    let n = 0;
    for (const f of this.facts.values()) n += f.stored;
    return n;
  }

  get(id: string): ChunkFacts {
    let f = this.facts.get(id);
    if (!f) {
      f = this.read(id);
      this.facts.set(id, f);
    }
    return f;
  }

  private read(id: string): ChunkFacts {
    const objects = this.repo.objects;
    const stored = objects.storedSize(id);
    if (stored < 0) return { encoding: 'absent', stored: 0 };
    let head: Buffer;
    try {
      head = objects.readStored(id, { offset: 0, length: HEADER_SIZE + DELTA_PREFIX });
    } catch {
      return { encoding: 'absent', stored: 0 };
    }
    return { encoding: encodingName(head), stored };
  }
}

/** The name of a stored object's encoding, from its header (see storage/codec/format.ts). */
export function encodingName(head: Uint8Array): string {
  if (head.length < HEADER_SIZE) return 'unknown';
  const kind = (code: number) => groupKindFromCode(code) ?? 'unknown';
  switch (head[2]) {
    case Encoding.raw:
      return 'raw';
    case Encoding.zstd:
      return 'zstd';
    case Encoding.planes:
      return `planes:${kind(head[3]!)}`;
    case Encoding.delta:
      return `delta:${kind(head[3]!)}`;
    default:
      return 'unknown';
  }
}

/** Sums a run of chunks into a tally, counting each id of the file once (`seen`). */
function tally(
  file: FileObject,
  from: number,
  to: number,
  seen: Set<string>,
  cache: ChunkFactsCache,
  into: { chunks: number; encodings: EncodingCounts; stored: number; sharedChunks: number },
): void {
  for (let i = from; i < to; i++) {
    const id = file.chunks[i]!.id;
    const f = cache.get(id);
    into.chunks++;
    into.encodings[f.encoding] = (into.encodings[f.encoding] ?? 0) + 1;
    if (seen.has(id)) into.sharedChunks++;
    else {
      seen.add(id);
      into.stored += f.stored;
    }
  }
}

/** One file object, tensor by tensor; `cache` is shared by the files of a listing. */
function listFile(path: string, file: FileObject, cache: ChunkFactsCache): FileTensors {
  const seen = new Set<string>();
  const other: OtherBytes = { bytes: 0, chunks: 0, encodings: {}, stored: 0, sharedChunks: 0 };
  const tensors: TensorListing[] = [];
  const entries = [...(file.layout?.tensors ?? [])].sort((a, b) => a.chunkStart - b.chunkStart || a.start - b.start);
  // chunk offsets, for the bytes of the chunks no tensor holds
  const offsets: number[] = [0];
  for (const c of file.chunks) offsets.push(offsets[offsets.length - 1]! + c.size);
  let next = 0;
  const gap = (until: number) => {
    if (until <= next) return;
    tally(file, next, until, seen, cache, other);
    other.bytes += offsets[until]! - offsets[next]!;
    next = until;
  };
  for (const t of entries) {
    gap(t.chunkStart);
    const row: TensorListing = {
      name: t.name,
      dtype: t.dtype,
      shape: t.shape,
      bytes: t.end - t.start,
      chunks: 0,
      encodings: {},
      stored: 0,
      sharedChunks: 0,
    };
    tally(file, t.chunkStart, t.chunkEnd, seen, cache, row);
    next = Math.max(next, t.chunkEnd);
    tensors.push(row);
  }
  gap(file.chunks.length);
  const stored = tensors.reduce((s, t) => s + t.stored, other.stored);
  const absent = file.chunks.reduce((n, c) => n + (cache.get(c.id).encoding === 'absent' ? 1 : 0), 0);
  const out: FileTensors = {
    path,
    format: file.layout?.format ?? null,
    size: file.size,
    chunks: file.chunks.length,
    stored,
    absentChunks: absent,
    tensors,
    other,
  };
  if (file.layout?.unlisted) out.unlisted = file.layout.unlisted;
  return out;
}

/**
 * The tensors of the given files of a version (path -> file object id), in
 * path order, each tensor's chunks in file order: how they are encoded and
 * what they take in the store; `stored`, the stored bytes of the distinct
 * chunks of all of them (a chunk two files share counted once). Reads the
 * stored chunks' headers only.
 */
export function listTensors(
  repo: Repository,
  files: [path: string, fileId: string][],
): { files: FileTensors[]; stored: number } {
  const cache = new ChunkFactsCache(repo);
  const out = [...files]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([path, id]) => listFile(path, repo.file(id), cache));
  return { files: out, stored: cache.total() };
}
