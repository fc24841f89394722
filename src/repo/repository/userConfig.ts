import { envUserConfig } from '../../settings.js';
import { join } from 'node:path';
import { homedir } from 'node:os';
import { MvmError } from '../../errors.js';
import { readJsonFile } from '../../storage/jsonFile.js';
import type { FsyncPolicy } from './repository.js';

/**
 * Settings of the user rather than of one repository: `~/.config/mvm/config.json` (or
 * `$XDG_CONFIG_HOME/mvm/config.json`).
 */
export interface UserConfig {
  /** Author of versions, deploys and annotations when neither --author nor MVM_AUTHOR says. */
  author?: string;
  /** Defaults for `mvm init`. */
  init?: { chunkSize?: number; compressionLevel?: number; fsync?: FsyncPolicy };
  /**
   * Signing versions: the SSH key (private, or public with its private half in ssh-agent), whether commit signs by
   * default, another allowed-signers file.
   */
  signing?: { key?: string; sign?: boolean; allowedSigners?: string };
}

/** Where the user config lives (MVM_CONFIG overrides). */
export function userConfigPath(): string {
  const fromEnv = envUserConfig();
  if (fromEnv) return fromEnv;
  const base = process.env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'mvm', 'config.json');
}

/** The user config, checked; an absent file is an empty config, a malformed one an error naming it. */
export function readUserConfig(): UserConfig {
  const path = userConfigPath();
  const bad = (why: string) => new MvmError('BAD_VALUE', `${path}: ${why}`, { path, hint: 'fix or remove the file' });
  const v = readJsonFile(path, () => bad('not valid JSON'));
  if (v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw bad('not a JSON object');
  const c = v as Record<string, unknown>;
  const out: UserConfig = {};
  if (c.author !== undefined) {
    if (typeof c.author !== 'string' || !c.author.trim()) throw bad('author is not a non-empty string');
    out.author = c.author.trim();
  }
  if (c.init !== undefined) {
    const i = c.init as Record<string, unknown>;
    if (!i || typeof i !== 'object' || Array.isArray(i)) throw bad('init is not an object');
    out.init = {};
    if (i.chunkSize !== undefined) {
      if (!Number.isSafeInteger(i.chunkSize)) throw bad('init.chunkSize is not a whole number');
      out.init.chunkSize = i.chunkSize as number;
    }
    if (i.compressionLevel !== undefined) {
      if (!Number.isSafeInteger(i.compressionLevel)) throw bad('init.compressionLevel is not a whole number');
      out.init.compressionLevel = i.compressionLevel as number;
    }
    if (i.fsync !== undefined) {
      if (i.fsync !== 'none' && i.fsync !== 'refs' && i.fsync !== 'all')
        throw bad("init.fsync is not 'none', 'refs' or 'all'");
      out.init.fsync = i.fsync;
    }
  }
  if (c.signing !== undefined) out.signing = readSigning(c.signing, bad);
  return out;
}

function readSigning(v: unknown, bad: (why: string) => MvmError): NonNullable<UserConfig['signing']> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('signing is not an object');
  const s = v as Record<string, unknown>;
  const out: NonNullable<UserConfig['signing']> = {};
  for (const k of ['key', 'allowedSigners'] as const) {
    if (s[k] === undefined) continue;
    if (typeof s[k] !== 'string' || !s[k].trim()) throw bad(`signing.${k} is not a non-empty string`);
    out[k] = s[k].trim();
  }
  if (s.sign !== undefined) {
    if (typeof s.sign !== 'boolean') throw bad('signing.sign is not true or false');
    out.sign = s.sign;
  }
  return out;
}
