import { KERNELS_WASM } from './kernelsWasm.js';
import { envJsKernels } from '../settings.js';

// Node has WebAssembly; the TypeScript libraries this project compiles against (no DOM) do not declare it.
declare const WebAssembly: {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object) => { exports: unknown };
};

/** The exports of kernels.wat that work on copies: each user has its own instance and memory. */
export interface OwnKernels {
  memory: { readonly buffer: ArrayBuffer; grow(pages: number): number };
  diff2(a: number, b: number, o: number, n: number): void;
  diff4(a: number, b: number, o: number, n: number): void;
  apply2(a: number, b: number, o: number, n: number): void;
  apply4(a: number, b: number, o: number, n: number): void;
}

/**
 * A new instance of the kernels with its own memory, or null where
 * WebAssembly SIMD is missing or MVM_KERNELS=js. Separate from the codec's
 * instance (kernels.ts), whose memory may hold the very bytes these read.
 */
export function ownKernels(): OwnKernels | null {
  if (envJsKernels()) return null;
  try {
    return new WebAssembly.Instance(new WebAssembly.Module(Buffer.from(KERNELS_WASM, 'base64'))).exports as OwnKernels;
  } catch {
    return null;
  }
}

/**
 * Makes the instance's memory at least `bytes` long, and returns a byte view of all of it (views made before a growth
 * are detached).
 */
export function kernelMemory(k: OwnKernels, bytes: number): Uint8Array {
  const have = k.memory.buffer.byteLength;
  if (have < bytes) k.memory.grow(Math.ceil((bytes - have) / 65536));
  return new Uint8Array(k.memory.buffer);
}
