/**
 * The environment variables mvm reads, each read here and only here
 * (docs/SETTINGS.md has the same list as a table). Like errors.ts this is a
 * leaf below every layer except core/, which reads no environment at all:
 * the limits the variables override are constants in core/limits.ts.
 *
 * Each getter reads `process.env` when called, never at module load, so a
 * test that sets a variable for a child process, or a command that runs
 * after another in one process, sees its current value. A value the getter
 * cannot use (not a whole number, say) reads as unset, so the default holds.
 *
 * Read by mvm:
 *
 * | variable            | default                              | read by                              |
 * | ------------------- | ------------------------------------ | ------------------------------------ |
 * | `MVM_DIR`           | search upwards from the current dir  | repo/repository/repository.ts (Repository.open) |
 * | `MVM_AUTHOR`        | user config, git, login name         | repo/repository/gitInfo.ts (defaultAuthor)      |
 * | `MVM_CONFIG`        | `$XDG_CONFIG_HOME/mvm/config.json`   | repo/repository/userConfig.ts                   |
 * | `MVM_WORKERS`       | one per core (+1 for writes), max 8  | storage/workerPool.ts                |
 * | `MVM_DELTAS`        | deltas on (`0` turns them off)       | repo/workspace/chunkFile.ts                       |
 * | `MVM_KERNELS`       | WebAssembly SIMD (`js` for JS loops) | storage/kernels.ts, kernelInstance.ts |
 * | `MVM_EXCHANGE`      | exchange of names (`0`: renames)     | storage/exchange.ts                  |
 * | `MVM_LOCK_TIMEOUT`  | config.json `lockTimeoutMs` (10 s)   | repo/repository/repository.ts (lock)            |
 * | `MVM_PACK_SIZE`     | PACK_SIZE, 64 MiB                    | repo/transfer/push.ts (packSize)              |
 * | `MVM_HASH`          | native BLAKE3 (`js` for pure JS)     | storage/hash.ts, at first use        |
 * | `MVM_FAULT`         | off                                  | storage/faults.ts, at first use      |
 * | `MVM_FAULT_LOG`     | none                                 | storage/faults.ts                    |
 *
 * Set by mvm for the programs it runs (outputs, never read back):
 *
 * - `mvm eval` commands: `MVM_PATH` (the version's folder) and `MVM_VERSION`
 *   (its id), in ops/evaluate.ts;
 * - deploy hooks: `MVM_ENV`, `MVM_ACTION`, `MVM_OLD_ID`, `MVM_OLD_NUMBER`,
 *   `MVM_NEW_ID`, `MVM_NEW_NUMBER`, `MVM_EXPORT_PATH`, in repo/deploy/release.ts.
 */

/** The variable's value when it is a whole number of decimal digits, else undefined. */
function wholeNumber(name: string): number | undefined {
  const v = process.env[name];
  return v && /^\d+$/.test(v) ? Number(v) : undefined;
}

/** `MVM_DIR`: the workspace to open instead of searching upwards from the current folder. */
export function envWorkspace(): string | undefined {
  return process.env.MVM_DIR;
}

/** `MVM_AUTHOR`: the author of versions, deploys and annotations when no `--author` is given (empty is unset). */
export function envAuthor(): string | undefined {
  return process.env.MVM_AUTHOR || undefined;
}

/** `MVM_CONFIG`: the user config file, instead of `$XDG_CONFIG_HOME/mvm/config.json` (empty is unset). */
export function envUserConfig(): string | undefined {
  return process.env.MVM_CONFIG || undefined;
}

/** `MVM_WORKERS`: worker threads per pool (0 runs tasks inline); undefined lets the pool choose. */
export function envWorkers(): number | undefined {
  return wholeNumber('MVM_WORKERS');
}

/** `MVM_DELTAS=0`: true when every chunk is to be stored whole, never as a delta against its parent's chunk. */
export function envDeltasOff(): boolean {
  return process.env.MVM_DELTAS === '0';
}

/** `MVM_KERNELS=js`: true when the byte-plane and delta transforms must run as JavaScript, not WebAssembly. */
export function envJsKernels(): boolean {
  return process.env.MVM_KERNELS === 'js';
}

/** `MVM_EXCHANGE=0`: true when checkout must rename new files over old ones instead of exchanging their names. */
export function envExchangeOff(): boolean {
  return process.env.MVM_EXCHANGE === '0';
}

/** `MVM_LOCK_TIMEOUT`: ms to wait for the repository lock, over the repository's `lockTimeoutMs`. */
export function envLockTimeout(): number | undefined {
  return wholeNumber('MVM_LOCK_TIMEOUT');
}

/** `MVM_PACK_SIZE`: bytes of stored objects per pack a push writes, over PACK_SIZE (0 is unset). */
export function envPackSize(): number | undefined {
  const n = wholeNumber('MVM_PACK_SIZE');
  return n !== undefined && n > 0 ? n : undefined;
}

/** `MVM_HASH=js`: true when BLAKE3 must run as pure JavaScript, not through the native addon. */
export function envJsHash(): boolean {
  return process.env.MVM_HASH === 'js';
}

/** `MVM_FAULT`: the fault-injection spec for crash tests (`count`, `kill:N`, `fail:N`, `full:N`; storage/faults.ts). */
export function envFault(): string | undefined {
  return process.env.MVM_FAULT;
}

/** `MVM_FAULT_LOG`: the file `MVM_FAULT=count` appends its numbered fault points to (empty is unset). */
export function envFaultLog(): string | undefined {
  return process.env.MVM_FAULT_LOG || undefined;
}
