// Generates safetensors files of bf16 (or f32) weights drawn from N(0, std) for the benchmark.
import { openSync, writeSync, readSync, closeSync } from 'node:fs';

import { createCipheriv, createHash } from 'node:crypto';

/** Acklam's rational approximation of the inverse standard normal CDF. */
function invNorm(p) {
  const a = [
    -39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239,
  ];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [
    -0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968,
    2.938163982698783,
  ];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const lo = 0.02425;
  if (p < lo) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (
      (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
      ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    );
  }
  if (p > 1 - lo) return -invNorm(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return (
    ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) /
    (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)
  );
}

const tables = new Map();
/** 65536 equally likely N(0, std) values as bf16 bit patterns: a uniform u16 indexes it. */
function gaussTable(std) {
  let t = tables.get(std);
  if (t) return t;
  t = new Uint16Array(65536);
  const f = new Float32Array(1);
  const u = new Uint32Array(f.buffer);
  for (let k = 0; k < 65536; k++) {
    f[0] = std * invNorm((k + 0.5) / 65536);
    t[k] = (u[0] + 0x7fff + ((u[0] >>> 16) & 1)) >>> 16;
  }
  tables.set(std, t);
  return t;
}

/** A deterministic stream of pseudo-random bytes (AES-256-CTR keyed by the seed). */
export function randomStream(seed) {
  const key = createHash('sha256').update(String(seed)).digest();
  const cipher = createCipheriv('aes-256-ctr', key, Buffer.alloc(16));
  return (n) => cipher.update(Buffer.alloc(n));
}

/** Fills `out` (a Uint16Array) with bf16 samples of N(0, std). */
export function fillBf16(out, next, std = 0.02) {
  const t = gaussTable(std);
  const r = next(out.length * 2);
  const idx = new Uint16Array(r.buffer, r.byteOffset, out.length);
  for (let i = 0; i < out.length; i++) out[i] = t[idx[i]];
}

/**
 * Fills `out` (a Float32Array) with true f32 samples of N(0, std): every
 * element maps its own 32-bit uniform through the inverse normal CDF, so the
 * low mantissa bits are as random as in real f32 weights (deriving f32 from
 * bf16 values would leave 16 zero bits per element and flatter compression).
 */
export function fillF32(out, next, std = 0.02) {
  const r = next(out.length * 4);
  const u = new Uint32Array(r.buffer, r.byteOffset, out.length);
  const scale = 1 / 4294967296;
  for (let i = 0; i < out.length; i++) out[i] = std * invNorm((u[i] + 0.5) * scale);
}

/** The tensor plan of a transformer-like model of about `bytes` bytes: layers of 9 weight tensors. */
export function planModel(bytes, dtypeSize = 2) {
  const hidden = 1024;
  const perLayer = [
    ['self_attn.q_proj.weight', [hidden, hidden]],
    ['self_attn.k_proj.weight', [hidden, hidden]],
    ['self_attn.v_proj.weight', [hidden, hidden]],
    ['self_attn.o_proj.weight', [hidden, hidden]],
    ['mlp.gate_proj.weight', [2816, hidden]],
    ['mlp.up_proj.weight', [2816, hidden]],
    ['mlp.down_proj.weight', [hidden, 2816]],
    ['input_layernorm.weight', [hidden]],
    ['post_attention_layernorm.weight', [hidden]],
  ];
  const layerBytes = perLayer.reduce((s, [, sh]) => s + sh.reduce((a, b) => a * b, 1) * dtypeSize, 0);
  const layers = Math.max(1, Math.round(bytes / layerBytes));
  const tensors = [];
  for (let l = 0; l < layers; l++)
    for (const [n, sh] of perLayer) tensors.push({ name: `model.layers.${l}.${n}`, shape: sh });
  return tensors;
}

/**
 * Writes a safetensors file. `seedOf(name)` picks each tensor's random seed, so
 * two versions share the tensors whose seeds agree. Streams in 4 MiB pieces.
 */
export function writeModel(path, tensors, { seedOf, metadata = {}, dtype = 'BF16', std = 0.02 }) {
  const size = dtype === 'F32' ? 4 : 2;
  let off = 0;
  const header = { __metadata__: metadata };
  for (const t of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1) * size;
    header[t.name] = { dtype, shape: t.shape, data_offsets: [off, off + n] };
    off += n;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const fd = openSync(path, 'w');
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  writeSync(fd, len);
  writeSync(fd, json);
  const PIECE = 1 << 21; // elements
  const buf16 = new Uint16Array(PIECE);
  const f32buf = new Float32Array(PIECE);
  for (const t of tensors) {
    const rand = randomStream(seedOf(t.name));
    let left = t.shape.reduce((a, b) => a * b, 1);
    while (left > 0) {
      const n = Math.min(left, PIECE);
      if (dtype === 'F32') {
        const view = f32buf.subarray(0, n);
        fillF32(view, rand, std);
        writeSync(fd, new Uint8Array(view.buffer, 0, n * 4));
      } else {
        const view = buf16.subarray(0, n);
        fillBf16(view, rand, std);
        writeSync(fd, new Uint8Array(view.buffer, 0, n * 2));
      }
      left -= n;
    }
  }
  closeSync(fd);
  return { headerBytes: 8 + Buffer.byteLength(json), dataBytes: off };
}

/** Reads a safetensors header: the tensor map and where the data section starts. */
export function readHeader(path) {
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    const json = Buffer.alloc(n);
    readSync(fd, json, 0, n, 8);
    return { header: JSON.parse(json.toString('utf8')), dataStart: 8 + n };
  } finally {
    closeSync(fd);
  }
}

/**
 * Rewrites the data of the named tensors of an existing safetensors file in
 * place with fresh samples drawn from `seedOf(name)` (header unchanged), so a
 * version with a few changed tensors costs only those tensors' generation.
 * Returns the number of bytes rewritten.
 */
export function patchTensors(path, names, { seedOf, std = 0.02 }) {
  const { header, dataStart } = readHeader(path);
  const fd = openSync(path, 'r+');
  let written = 0;
  try {
    const PIECE = 1 << 21;
    const buf16 = new Uint16Array(PIECE);
    const f32buf = new Float32Array(PIECE);
    for (const name of names) {
      const t = header[name];
      if (!t) throw new Error(`no tensor ${name} in ${path}`);
      const size = t.dtype === 'F32' ? 4 : 2;
      const rand = randomStream(seedOf(name));
      let pos = dataStart + t.data_offsets[0];
      let left = (t.data_offsets[1] - t.data_offsets[0]) / size;
      while (left > 0) {
        const n = Math.min(left, PIECE);
        let bytes;
        if (t.dtype === 'F32') {
          fillF32(f32buf.subarray(0, n), rand, std);
          bytes = new Uint8Array(f32buf.buffer, 0, n * 4);
        } else {
          fillBf16(buf16.subarray(0, n), rand, std);
          bytes = new Uint8Array(buf16.buffer, 0, n * 2);
        }
        writeSync(fd, bytes, 0, bytes.length, pos);
        pos += bytes.length;
        written += bytes.length;
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}

/**
 * Fine-tunes the named bf16 tensors of a safetensors file in place: every
 * weight w becomes w + N(0, (rel * std)^2), rounded to bf16 (round to nearest
 * even), as a training step moves weights by a small relative amount.
 * Returns the number of bytes of those tensors.
 */
export function tuneTensors(path, names, { rel, std = 0.02, seed }) {
  const { header, dataStart } = readHeader(path);
  const fd = openSync(path, 'r+');
  let bytesTotal = 0;
  try {
    const PIECE = 1 << 20;
    const buf = Buffer.alloc(PIECE * 2);
    const noise = new Float32Array(PIECE);
    const f = new Float32Array(1);
    const u = new Uint32Array(f.buffer);
    for (const name of names) {
      const t = header[name];
      if (t?.dtype !== 'BF16') throw new Error(`no bf16 tensor ${name} in ${path}`);
      const rand = randomStream(`${seed}:${name}`);
      let pos = dataStart + t.data_offsets[0];
      let left = (t.data_offsets[1] - t.data_offsets[0]) / 2;
      while (left > 0) {
        const n = Math.min(left, PIECE);
        readSync(fd, buf, 0, n * 2, pos);
        fillF32(noise.subarray(0, n), rand, rel * std);
        for (let i = 0; i < n; i++) {
          u[0] = buf.readUInt16LE(i * 2) << 16;
          f[0] += noise[i];
          const b = u[0];
          buf.writeUInt16LE(((b + 0x7fff + ((b >>> 16) & 1)) >>> 16) & 0xffff, i * 2);
        }
        writeSync(fd, buf, 0, n * 2, pos);
        pos += n * 2;
        bytesTotal += n * 2;
        left -= n;
      }
    }
  } finally {
    closeSync(fd);
  }
  return bytesTotal;
}
