/**
 * Content-based model format detection: picks a parser by magic bytes (never
 * by file name) and validates the tensor map it returns. Any failure yields
 * null so the caller falls back to plain fixed-size chunking.
 */
import { parseGguf } from './gguf.js';
import { parseHdf5, parseKeras } from './hdf5.js';
import { parseNpy, parseNpz } from './numpy.js';
import { parseOnnx } from './onnx.js';
import { parsePytorchZip } from './pytorch.js';
import { parseSafetensors } from './safetensors.js';
import { parseTflite } from './tflite.js';
import type { ByteSource, Layout } from './types.js';

/** Recognises a model file's layout by content; null when no format matches or the file is malformed. Never throws. */
export async function detectLayout(src: ByteSource): Promise<Layout | null> {
  try {
    const size = src.size;
    if (!Number.isSafeInteger(size) || size < 8) return null;
    const head = await src.read(0, Math.min(size, 16));
    if (!Buffer.isBuffer(head) || head.length < 8) return null;
    let layout: Layout | null;
    if (head.toString('latin1', 0, 4) === 'GGUF') layout = await parseGguf(src);
    else if (head.readUInt32LE(0) === 0x04034b50)
      layout = (await parsePytorchZip(src)) ?? (await parseNpz(src)) ?? (await parseKeras(src));
    else if (head.toString('latin1', 0, 6) === '\x93NUMPY') layout = await parseNpy(src);
    else if (head.toString('latin1', 4, 8) === 'TFL3') layout = await parseTflite(src);
    else if (head.toString('latin1', 0, 8) === '\x89HDF\r\n\x1a\n') layout = await parseHdf5(src);
    else if (head[8] === 0x7b) layout = await parseSafetensors(src);
    // HDF5 after a user block (MATLAB v7.3 .mat files) has its signature further in
    else layout = (await parseHdf5(src)) ?? (await parseOnnx(src));
    return layout && validateLayout(layout, size);
  } catch {
    return null;
  }
}

/**
 * Sorts a layout's tensors by start and checks they, and its packed runs, are
 * non-overlapping integer ranges within [0, size]; null when not.
 */
export function validateLayout(layout: Layout, size: number): Layout | null {
  const tensors = [...layout.tensors].sort((a, b) => a.start - b.start || a.end - b.end);
  const packed = layout.packed ?? [];
  let prevEnd = 0;
  let r = 0;
  const check = (t: { start: number; end: number }) => {
    if (!Number.isSafeInteger(t.start) || !Number.isSafeInteger(t.end)) return false;
    if (t.start < prevEnd || t.end < t.start || t.end > size) return false;
    prevEnd = t.end;
    return true;
  };
  for (const t of tensors) {
    while (r < packed.length && packed[r]!.start < t.start) if (!check(packed[r++]!)) return null;
    if (!check(t)) return null;
  }
  while (r < packed.length) if (!check(packed[r++]!)) return null;
  return packed.length ? { format: layout.format, tensors, packed } : { format: layout.format, tensors };
}
