import { KERNELS_WASM } from './kernelsWasm.js';
import { envJsKernels } from '../settings.js';

// Node has WebAssembly; the TypeScript libraries this project compiles against (no DOM) do not declare it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

/** A WebAssembly memory: one growable ArrayBuffer (replaced, and the old one detached, on growth). */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

/**
 * The byte-plane kernels compiled to WebAssembly with SIMD (kernels.wat),
 * chosen at run time: where WebAssembly SIMD is missing, or with
 * MVM_KERNELS=js, the word kernels of bytegroup.ts run instead (they produce
 * the same bytes; a property test holds both to that). Each thread has its
 * own instance and memory.
 */
export interface Kernels {
  memory: WasmMemory;
  group2(s: number, d: number, n: number, rot: number): void;
  ungroup2(s: number, d: number, n: number, rot: number): void;
  group4(s: number, d: number, n: number, rot: number): void;
  ungroup4(s: number, d: number, n: number, rot: number): void;
  stats_bf16(x: number, y: number, n: number, out: number): void;
}

let kernels: Kernels | null | undefined;

/** This thread's WebAssembly kernels, or null when they cannot (or must not) be used. */
export function wasmKernels(): Kernels | null {
  if (kernels === undefined) {
    kernels = null;
    if (!envJsKernels()) {
      try {
        kernels = new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(KERNELS_WASM, 'base64')))
          .exports as unknown as Kernels;
      } catch {
        kernels = null;
      }
    }
  }
  return kernels;
}

/** Which implementation runs the byte-plane transforms in this thread. */
export function kernelName(): 'wasm-simd' | 'js' {
  return wasmKernels() ? 'wasm-simd' : 'js';
}

/**
 * Two areas of `size` bytes in the kernels' memory, input first, for a
 * transform that reads and writes there without copying. Growing the memory
 * detaches every earlier view of it, so both are valid only until the next call.
 */
export function kernelArena(k: Kernels, size: number): { input: Buffer; output: Buffer } {
  const outAt = (size + 15) & ~15;
  const need = outAt + size;
  const have = k.memory.buffer.byteLength;
  if (need > have) k.memory.grow(Math.ceil((need - have) / 65536));
  return { input: Buffer.from(k.memory.buffer, 0, size), output: Buffer.from(k.memory.buffer, outAt, size) };
}

/**
 * Drops this thread's kernels when their memory grew past `maxBytes` (a
 * WebAssembly memory never shrinks): the next use makes a fresh instance.
 * Call only when no view into that memory is still in use.
 */
export function releaseKernels(maxBytes: number): void {
  if (kernels && kernels.memory.buffer.byteLength > maxBytes) kernels = undefined;
}
