import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { LevelKv } from './kv.js';
import { writeFileAtomic } from './atomic.js';

/** The file in the index folder naming the active generation. */
const ACTIVE = 'active';
/** What a generation folder is called; anything else in `active` is ignored. */
const GENERATION = /^g-[0-9a-z]{1,12}-[0-9a-f]{8}$/;

/**
 * IndexStore keeps the LevelDB index in generations: `index/g-<time>-<rand>/`
 * folders and an `index/active` file naming the one in use. A LevelDB is never
 * cleared, moved or deleted while another process may have it open: a new
 * generation is built beside the old one, `active` is replaced atomically,
 * and an old generation is removed only by a process that holds its LevelDB
 * lock (so nobody else has it open). A reader that read the old name just
 * before the swap finds that folder gone and reads `active` again.
 *
 * An index from before generations (a LevelDB directly in `index/`) is
 * treated as absent, and removed with the old generations.
 */
export class IndexStore {
  constructor(readonly root: string) {}

  /** The active generation's name, or null when there is none (or `active` names something else). */
  active(): string | null {
    try {
      const name = readFileSync(join(this.root, ACTIVE), 'utf8').trim();
      return GENERATION.test(name) ? name : null;
    } catch {
      return null;
    }
  }

  /**
   * Opens the active generation, waiting up to `waitMs` while another process
   * holds it. 'none' when there is no active generation; 'missing' when it
   * was retired meanwhile (read `active` again).
   */
  async openActive(waitMs: number): Promise<{ name: string; kv: LevelKv } | 'none' | 'missing' | 'locked' | 'corrupt'> {
    const name = this.active();
    if (!name) return 'none';
    const kv = await LevelKv.open(join(this.root, name), waitMs, { create: false });
    return typeof kv === 'string' ? kv : { name, kv };
  }

  /** Creates an empty generation, not yet active. Null when it cannot be created (read-only storage). */
  async create(): Promise<{ name: string; kv: LevelKv } | null> {
    const name = `g-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    try {
      mkdirSync(this.root, { recursive: true });
    } catch {
      return null;
    }
    const kv = await LevelKv.open(join(this.root, name), 0);
    if (typeof kv === 'string') {
      this.discard(name);
      return null;
    }
    return { name, kv };
  }

  /** Makes `name` the active generation (one atomic rename of the `active` file). */
  activate(name: string, tmpDir: string): void {
    writeFileAtomic(join(this.root, ACTIVE), `${name}\n`, { tmpDir, fsync: false });
  }

  /** Deletes a generation that was never activated. */
  discard(name: string): void {
    rmSync(join(this.root, name), { recursive: true, force: true });
  }

  /**
   * Removes every generation but `keep` that no process has open, and an
   * index in the layout from before generations. One still open elsewhere
   * is left for a later rebuild to remove.
   */
  async retireOthers(keep: string): Promise<void> {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      return;
    }
    if (names.includes('CURRENT')) await this.retireLegacy();
    for (const name of names) {
      if (name === keep) continue;
      if (name.startsWith('trash-')) rmSync(join(this.root, name), { recursive: true, force: true });
      else if (GENERATION.test(name)) await this.retire(join(this.root, name));
    }
  }

  /**
   * Holding the generation's LevelDB lock (so no process has it open), moves
   * it aside with one rename, then deletes it. A process that reads its name
   * from `active` afterwards finds it missing, never half deleted.
   */
  private async retire(dir: string): Promise<void> {
    const kv = await LevelKv.open(dir, 0, { create: false });
    if (kv === 'locked') return;
    const trash = join(this.root, `trash-${process.pid}-${randomBytes(4).toString('hex')}`);
    try {
      renameSync(dir, trash);
    } catch {
      /* gone already */
    }
    if (typeof kv !== 'string') await kv.close().catch(() => undefined);
    rmSync(trash, { recursive: true, force: true });
  }

  /**
   * Deletes the files of a LevelDB kept directly in the index folder (the layout before generations), if nobody has it
   * open.
   */
  private async retireLegacy(): Promise<void> {
    const kv = await LevelKv.open(this.root, 0, { create: false });
    if (kv === 'locked') return;
    if (typeof kv !== 'string') await kv.close().catch(() => undefined);
    for (const name of readdirSync(this.root)) {
      if (
        name === 'LOCK' ||
        name === 'CURRENT' ||
        name === 'LOG' ||
        name === 'LOG.old' ||
        /^(MANIFEST-\d+|\d+\.(ldb|log|sst))$/.test(name)
      ) {
        rmSync(join(this.root, name), { force: true });
      }
    }
  }
}
