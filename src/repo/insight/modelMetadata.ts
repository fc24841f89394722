import { open } from 'node:fs/promises';
import type { FileObject } from '../../core/objects.js';
import type { ByteSource } from '../../core/formats/types.js';
import { readModelMetadata, type ModelMetadata } from '../../core/formats/metadata.js';
import type { Repository } from '../repository/index.js';

/**
 * A file of the store as a ByteSource: reads decode (and verify) only the
 * chunks they touch, keeping the last one, so reading a model's header costs
 * its first chunk or few.
 */
export function storedSource(repo: Repository, file: FileObject): ByteSource {
  const starts: number[] = [];
  let at = 0;
  for (const c of file.chunks) {
    starts.push(at);
    at += c.size;
  }
  let cached: { index: number; data: Buffer } | null = null;
  const chunk = async (i: number): Promise<Buffer> => {
    if (cached?.index === i) return cached.data;
    const ref = file.chunks[i]!;
    const id = ref.id;
    await repo.chunks.ensure([ref]);
    const data = repo.objects.get(id);
    cached = { index: i, data };
    return data;
  };
  return {
    size: file.size,
    async read(offset: number, length: number): Promise<Buffer> {
      const end = Math.min(file.size, offset + length);
      const parts: Buffer[] = [];
      // the first chunk that holds `offset`: binary search over the starts
      let lo = 0;
      let hi = starts.length - 1;
      while (lo < hi) {
        const mid = (lo + hi + 1) >> 1;
        if (starts[mid]! <= offset) lo = mid;
        else hi = mid - 1;
      }
      for (let i = lo; i < starts.length && starts[i]! < end; i++) {
        const s = starts[i]!;
        parts.push((await chunk(i)).subarray(Math.max(0, offset - s), Math.min(file.chunks[i]!.size, end - s)));
      }
      return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
    },
  };
}

/**
 * The metadata a model file carries (safetensors `__metadata__`, GGUF key-values, ONNX props), read from the store;
 * null for other files.
 */
export async function storedModelMetadata(repo: Repository, file: FileObject): Promise<ModelMetadata | null> {
  if (!file.layout) return null;
  return readModelMetadata(storedSource(repo, file));
}

/**
 * The metadata of a model file in the workspace, read from its header; null for other files or a file that cannot be
 * read.
 */
export async function workspaceModelMetadata(abs: string): Promise<ModelMetadata | null> {
  let fh: Awaited<ReturnType<typeof open>> | null = null;
  try {
    fh = await open(abs, 'r');
    const size = (await fh.stat()).size;
    const file = fh;
    return await readModelMetadata({
      size,
      async read(offset: number, length: number): Promise<Buffer> {
        const buf = Buffer.allocUnsafe(Math.max(0, Math.min(length, size - offset)));
        let got = 0;
        while (got < buf.length) {
          const { bytesRead } = await file.read(buf, got, buf.length - got, offset + got);
          if (bytesRead === 0) break;
          got += bytesRead;
        }
        return buf.subarray(0, got);
      },
    });
  } catch {
    return null;
  } finally {
    await fh?.close();
  }
}

/** What changed between two sets of model metadata: keys added, removed or with another value. */
export function metadataChanges(
  a: Record<string, string>,
  b: Record<string, string>,
): { key: string; from: string | null; to: string | null }[] {
  const out: { key: string; from: string | null; to: string | null }[] = [];
  for (const key of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()) {
    const from = Object.hasOwn(a, key) ? a[key]! : null;
    const to = Object.hasOwn(b, key) ? b[key]! : null;
    if (from !== to) out.push({ key, from, to });
  }
  return out;
}
