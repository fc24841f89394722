/**
 * Exchanging two paths in one atomic step: `renameat2(RENAME_EXCHANGE)` on
 * Linux, `renamex_np(RENAME_SWAP)` on macOS, through the prebuilt N-API addon
 * of fs-native-extensions (Node.js has no call for it). A checkout installs a
 * new file this way instead of renaming it over the old one: on ext4 a rename
 * over an existing file makes the kernel allocate every delayed block of the
 * new file inside the rename (auto_da_alloc), about half a second a GiB on
 * the command's path, and an exchange does not. Both leave the path holding
 * one whole file at every instant, and a reader of the old file keeps it.
 */
import { createRequire } from 'node:module';
import { envExchangeOff } from '../settings.js';

/** The part of the addon in use. */
interface SwapBinding {
  swapSync(from: string, to: string): void;
}

/** Errors that say this filesystem or kernel cannot exchange: the caller renames instead. */
const UNSUPPORTED = new Set(['EINVAL', 'ENOSYS', 'ENOTSUP', 'EOPNOTSUPP', 'EXDEV']);

/** The addon copies each path into a buffer of 4,096 bytes and would cut a longer one short. */
const MAX_PATH_BYTES = 4095;

let binding: SwapBinding | null | undefined;

/**
 * The addon's binding, loaded on first use straight from its prebuilt file
 * (about 2 ms; through the package's own loader it takes 10 ms more), or null
 * where there is none: other platforms, Windows (where the package's swap is
 * not atomic), or a libc without a prebuild; also null with `MVM_EXCHANGE=0`.
 */
function loadBinding(): SwapBinding | null {
  if (envExchangeOff()) return null;
  if (binding !== undefined) return binding;
  binding = null;
  if (process.platform === 'linux' || process.platform === 'darwin') {
    try {
      const file = `fs-native-extensions/prebuilds/${process.platform}-${process.arch}/fs-native-extensions.node`;
      const b = createRequire(import.meta.url)(file) as Partial<SwapBinding>;
      if (typeof b.swapSync === 'function') binding = b as SwapBinding;
    } catch {
      /* no prebuild for this platform: renames are used */
    }
  }
  return binding;
}

/** Whether this process can exchange paths at all (the filesystem may still refuse: see exchangePaths). */
export function canExchange(): boolean {
  return loadBinding() !== null;
}

/** A path the addon takes whole: not too long for its buffer, and no NUL that would end it early. */
function fits(p: string): boolean {
  return !p.includes('\0') && Buffer.byteLength(p) <= MAX_PATH_BYTES;
}

/**
 * Exchanges `a` and `b`, which must both exist: afterwards `b` names what `a`
 * named and the other way round. Returns false, having changed nothing, when
 * it cannot be done here (no addon, a filesystem or kernel without the call,
 * paths on two filesystems): the caller then renames. Any other error (a path
 * missing, no permission) is thrown as Node's fs calls throw it, with `code`.
 */
export function exchangePaths(a: string, b: string, swap: SwapBinding | null = loadBinding()): boolean {
  if (!swap || !fits(a) || !fits(b)) return false;
  try {
    swap.swapSync(a, b);
    return true;
  } catch (e) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && UNSUPPORTED.has(code)) return false;
    throw Object.assign(new Error(`${code ?? 'EIO'}: cannot exchange '${a}' and '${b}'`), { code, syscall: 'rename' });
  }
}
