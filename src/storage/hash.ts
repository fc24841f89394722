import { createRequire } from 'node:module';
import { envJsHash } from '../settings.js';
// The pure-JS fallback, imported statically: a top-level `await import()` of it made this module,
// and every module that imports it, asynchronously evaluated, and Node 20's V8 can crash
// ("Check failed: (location_) != nullptr" in ExecuteAsyncModule) when such a graph is imported
// from two places at once. Bundled, it costs next to nothing until it runs.
import { blake3 as nobleBlake3 } from '@noble/hashes/blake3.js';

/** A streaming BLAKE3 hasher: feed bytes, then take the 32-byte digest once. */
export interface Hasher {
  update(data: Uint8Array): Hasher;
  digestHex(): string;
}

/** Which BLAKE3 implementation is in use: native SIMD or the pure-JS fallback. */
export type HashBackend = 'native' | 'js';

interface NativeBlake3Hasher {
  update(data: Uint8Array): NativeBlake3Hasher;
  digest(encoding: 'hex'): string;
}
interface NativeModule {
  blake3(data: Uint8Array): Buffer;
  Blake3Hasher: new () => NativeBlake3Hasher;
}

function loadNative(): NativeModule | null {
  if (envJsHash()) return null;
  const require = createRequire(import.meta.url);
  // On glibc Linux the binary package loads directly: the package's own loader first asks
  // process.report whether libc is musl, which costs several ms of every command's start-up.
  // On musl the glibc binary is absent or fails to load, and the loader below chooses.
  if (process.platform === 'linux' && (process.arch === 'x64' || process.arch === 'arm64')) {
    try {
      const direct = require(`@napi-rs/blake-hash-linux-${process.arch}-gnu`) as NativeModule;
      if (typeof direct.blake3 === 'function' && typeof direct.Blake3Hasher === 'function') return direct;
    } catch {
      // fall through to the package's loader
    }
  }
  try {
    return require('@napi-rs/blake-hash') as NativeModule;
  } catch {
    return null;
  }
}

// loaded on first use, not at module load: the start-up snapshot (scripts/snapshot.mjs) evaluates this module
// when it is built, and a native addon cannot be part of a snapshot
let loaded: NativeModule | null | undefined;
const nativeModule = (): NativeModule | null => (loaded === undefined ? (loaded = loadNative()) : loaded);

/** The backend in use (native unless it failed to load or MVM_HASH=js), chosen on first use. */
export function hashBackend(): HashBackend {
  return nativeModule() ? 'native' : 'js';
}

/** BLAKE3 of `data` as 64 lowercase hex characters, through the native path when present. */
export function blake3Hex(data: Uint8Array): string {
  const native = nativeModule();
  return native ? native.blake3(data).toString('hex') : Buffer.from(nobleBlake3(data)).toString('hex');
}

/** BLAKE3 of `data` with the pure-JS implementation, whatever the default backend is. */
export async function blake3HexJs(data: Uint8Array): Promise<string> {
  return Buffer.from(nobleBlake3(data)).toString('hex');
}

/** A new streaming hasher on the default backend. */
export function createHasher(): Hasher {
  const native = nativeModule();
  if (native) {
    const h = new native.Blake3Hasher();
    const self: Hasher = {
      update(d) {
        h.update(d);
        return self;
      },
      digestHex() {
        return h.digest('hex');
      },
    };
    return self;
  }
  const h = nobleBlake3.create();
  const self: Hasher = {
    update(d) {
      h.update(d);
      return self;
    },
    digestHex() {
      return Buffer.from(h.digest()).toString('hex');
    },
  };
  return self;
}
