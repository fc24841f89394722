import { existsSync, readdirSync, rmdirSync } from 'node:fs';
import type { Level } from 'level';

/** One write in a batch. */
export type KvOp = { type: 'put'; key: string; value: string } | { type: 'del'; key: string };

/** KvStore is the ordered key-value store behind the index (LevelDB on disk, a Map in memory). */
export interface KvStore {
  get(key: string): Promise<string | undefined>;
  getMany(keys: string[]): Promise<(string | undefined)[]>;
  batch(ops: KvOp[]): Promise<void>;
  /** Entries whose key starts with `prefix`, in key order. */
  entries(prefix: string): AsyncIterable<[string, string]>;
  /** Deletes every entry (the store stays open, so no other process can slip in). */
  clear(): Promise<void>;
  close(): Promise<void>;
}

/** A KvStore in memory: used when the on-disk index is held by another process, and in tests. */
export class MemoryKv implements KvStore {
  private readonly map = new Map<string, string>();
  async get(key: string) {
    return this.map.get(key);
  }
  async getMany(keys: string[]) {
    return keys.map((k) => this.map.get(k));
  }
  async batch(ops: KvOp[]) {
    for (const op of ops) {
      if (op.type === 'put') this.map.set(op.key, op.value);
      else this.map.delete(op.key);
    }
  }
  async *entries(prefix: string): AsyncIterable<[string, string]> {
    const keys = [...this.map.keys()].filter((k) => k.startsWith(prefix)).sort();
    for (const k of keys) yield [k, this.map.get(k)!];
  }
  async clear() {
    this.map.clear();
  }
  async close() {
    /* nothing to release */
  }
}

/** Table files past which opening the index compacts it first. */
const MAX_TABLE_FILES = 64;

/**
 * LevelDB turns its log into a new small table at every open and compacts in
 * the background, which a short-lived CLI process cuts off at close: table
 * files pile up and every open gets slower. Past MAX_TABLE_FILES, compact
 * everything once, in the foreground.
 */
async function compactIfFragmented(db: Level<string, string>, dir: string): Promise<void> {
  let tables = 0;
  try {
    for (const f of readdirSync(dir)) if (f.endsWith('.ldb')) tables++;
  } catch {
    return;
  }
  if (tables > MAX_TABLE_FILES)
    await (db as unknown as { compactRange(a: string, b: string): Promise<void> }).compactRange('', '\uffff');
}

/** Why the LevelDB index could not be opened. */
export type OpenFailure = 'locked' | 'corrupt' | 'missing';

/** A KvStore in a LevelDB directory. */
export class LevelKv implements KvStore {
  private constructor(private readonly db: Level<string, string>) {}

  /**
   * Opens the LevelDB at `dir`, retrying for `waitMs` while another process
   * holds it. Returns the failure kind instead of throwing, since the index is
   * derived data the caller can do without or rebuild. With `create: false`
   * a directory that is not there is 'missing' rather than created.
   */
  static async open(dir: string, waitMs: number, opts: { create?: boolean } = {}): Promise<LevelKv | OpenFailure> {
    const deadline = Date.now() + waitMs;
    const create = opts.create ?? true;
    if (!create && !existsSync(dir)) return 'missing';
    // loaded on first use: commands that never touch the index skip its start-up cost. level is
    // CommonJS: its exports object is the default export, in node and in the bundled CLI alike
    const { Level: LevelDb } = (await import('level')).default;
    for (;;) {
      const db = new LevelDb<string, string>(dir, { valueEncoding: 'utf8' });
      try {
        await db.open({ createIfMissing: create });
        await compactIfFragmented(db, dir);
        return new LevelKv(db);
      } catch (e) {
        const cause = String((e as { cause?: unknown }).cause ?? e);
        if (/does not exist/i.test(cause) || !existsSync(dir)) {
          // LevelDB makes the folder before it finds no database there: take that empty folder away again
          if (!create)
            try {
              rmdirSync(dir);
            } catch {
              /* not empty, or gone */
            }
          return 'missing';
        }
        if (/lock/i.test(cause)) {
          if (Date.now() >= deadline) return 'locked';
          await new Promise((r) => setTimeout(r, 25));
          continue;
        }
        return 'corrupt';
      }
    }
  }

  async get(key: string) {
    return this.db.get(key);
  }
  async getMany(keys: string[]) {
    return this.db.getMany(keys);
  }
  async batch(ops: KvOp[]) {
    await this.db.batch(ops);
  }
  async *entries(prefix: string): AsyncIterable<[string, string]> {
    // in batches: one native call per thousand entries instead of one per entry
    const it = this.db.iterator({ gte: prefix, lt: prefix + '\uffff' });
    try {
      for (;;) {
        const batch = await it.nextv(1000);
        if (!batch.length) break;
        for (const e of batch) yield e;
      }
    } finally {
      await it.close();
    }
  }
  async clear() {
    await this.db.clear();
  }
  async close() {
    await this.db.close();
  }
}
