/**
 * MvmError is the one error type mvm raises on purpose. It sits below every
 * layer (cli -> ops -> core -> storage all import it) and carries a stable
 * `code`, the process exit code the CLI maps it to, and the data a user needs
 * to act on it. Tests assert `code`, never message wording.
 */

/** Exit codes, decided here and only mapped to the process in cli/main.ts. */
export const EXIT = {
  ok: 0,
  /** Generic failure, or a condition a script may test (e.g. `status --exit-code`). */
  failure: 1,
  /** The command line itself is wrong: unknown flag, malformed value, bad expression. */
  usage: 2,
  /** Not inside an mvm repository, or the repository already exists. */
  repository: 3,
  /** A revision, path or ref named by the user does not exist or is ambiguous. */
  notFound: 4,
  /** The workspace has changes the command would overwrite. */
  conflict: 5,
  /** Another process holds the repository lock. */
  locked: 6,
  /** An object or ref is missing or corrupt. */
  corrupt: 7,
  /** The operating system refused: unreadable file, full disk, permission denied. */
  io: 8,
  /** A user-supplied command (mvm eval) failed. */
  external: 9,
  /** A remote could not be reached or refused: network, credentials, permissions, missing bucket or folder. */
  remote: 10,
} as const;

/** The stable error codes and the exit code each maps to. */
export const ERROR_CODES = {
  NOT_A_REPOSITORY: EXIT.repository,
  ALREADY_A_REPOSITORY: EXIT.repository,
  BAD_ARGUMENT: EXIT.usage,
  BAD_VALUE: EXIT.usage,
  BAD_EXPRESSION: EXIT.usage,
  BAD_REF_NAME: EXIT.usage,
  PATH_OUTSIDE_WORKSPACE: EXIT.usage,
  PATH_INSIDE_MVM: EXIT.usage,
  PATH_INSIDE_GIT: EXIT.usage,
  UNSUPPORTED_NAME: EXIT.usage,
  PATH_NOT_FOUND: EXIT.notFound,
  NOT_TRACKED: EXIT.notFound,
  UNKNOWN_REVISION: EXIT.notFound,
  AMBIGUOUS_REVISION: EXIT.notFound,
  REF_EXISTS: EXIT.failure,
  NOTHING_DEPLOYED: EXIT.notFound,
  UNKNOWN_ENV: EXIT.notFound,
  ENV_MOVED: EXIT.conflict,
  NOT_PUSHED: EXIT.failure,
  NO_PREVIOUS_DEPLOYMENT: EXIT.notFound,
  NO_VERSIONS: EXIT.notFound,
  GATE_FAILED: EXIT.failure,
  NOTHING_TRACKED: EXIT.failure,
  NOTHING_TO_COMMIT: EXIT.failure,
  BRANCH_NOT_MERGED: EXIT.failure,
  HOOK_FAILED: EXIT.external,
  EXPORT_CONFLICT: EXIT.conflict,
  UNCOMMITTED_CHANGES: EXIT.conflict,
  SYMLINK_IN_PATH: EXIT.conflict,
  LOCKED: EXIT.locked,
  OBJECT_MISSING: EXIT.corrupt,
  OBJECT_CORRUPT: EXIT.corrupt,
  REF_CORRUPT: EXIT.corrupt,
  UNREADABLE: EXIT.io,
  DISK_FULL: EXIT.io,
  IO_ERROR: EXIT.io,
  COMMAND_FAILED: EXIT.external,
  UNSAFE_VERSION: EXIT.corrupt,
  UNKNOWN_REMOTE: EXIT.notFound,
  REMOTE_EXISTS: EXIT.failure,
  NON_FAST_FORWARD: EXIT.conflict,
  REBASE_CONFLICT: EXIT.conflict,
  REMOTE_CORRUPT: EXIT.corrupt,
  REMOTE_FORMAT: EXIT.repository,
  REMOTE_UNREACHABLE: EXIT.remote,
  REMOTE_AUTH: EXIT.remote,
  REMOTE_DENIED: EXIT.remote,
  REMOTE_NOT_FOUND: EXIT.remote,
  NOT_SIGNED: EXIT.failure,
  BAD_SIGNATURE: EXIT.failure,
  SIGNER_NOT_ALLOWED: EXIT.failure,
  SIGNING_FAILED: EXIT.external,
  REMOTE_UNTRUSTED: EXIT.remote,
} as const;

/** A stable machine-readable error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

/** Structured data attached to an error: ids, paths and the hint for what to do next. */
export interface ErrorData {
  /** What the user can do about it, one sentence. */
  hint?: string;
  [key: string]: unknown;
}

/** The one error type mvm raises on purpose. */
export class MvmError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;
  readonly data: ErrorData;

  constructor(code: ErrorCode, message: string, data: ErrorData = {}) {
    super(message);
    this.name = 'MvmError';
    this.code = code;
    this.exitCode = ERROR_CODES[code];
    this.data = data;
  }

  /** The JSON shape used by `--json` output. */
  toJSON(): { code: ErrorCode; message: string; exitCode: number; data: ErrorData } {
    return { code: this.code, message: this.message, exitCode: this.exitCode, data: this.data };
  }
}

/** True when `e` is an MvmError with the given code (or any MvmError without one). */
export function isMvmError(e: unknown, code?: ErrorCode): e is MvmError {
  return e instanceof MvmError && (code === undefined || e.code === code);
}

/**
 * Turns an operating-system error into an MvmError that names the path, so a
 * full disk or an unreadable file reaches the user as one clear line. The one
 * mapping from errno to error code; `missing` replaces the generic
 * PATH_NOT_FOUND when the caller can say better what was missing.
 */
export function fromSystemError(e: unknown, path: string, doing: string, missing?: MvmError): MvmError {
  if (e instanceof MvmError) return e;
  const err = e as NodeJS.ErrnoException;
  if (missing && (err?.code === 'ENOENT' || err?.code === 'ENOTDIR')) return missing;
  switch (err?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return new MvmError('DISK_FULL', `no space left on device while ${doing} ${path}`, {
        path,
        hint: 'free some disk space and run the command again',
      });
    case 'EACCES':
    case 'EPERM':
      return new MvmError('UNREADABLE', `permission denied while ${doing} ${path}`, {
        path,
        hint: 'check the file permissions',
      });
    case 'ENOENT':
      return new MvmError('PATH_NOT_FOUND', `no such file or directory: ${path}`, { path });
    case 'EISDIR':
      return new MvmError('UNREADABLE', `expected a file but found a directory: ${path}`, { path });
    default:
      return new MvmError('IO_ERROR', `${err?.code ?? 'error'} while ${doing} ${path}: ${err?.message ?? String(e)}`, {
        path,
        errno: err?.code,
      });
  }
}
