import { closeSync, ftruncateSync, openSync, rmSync } from 'node:fs';
import { fromSystemError } from '../../errors.js';
import type { FileEntry, FileObject } from '../../core/objects.js';
import { tempPath } from '../../storage/atomic.js';
import type { Repository } from '../repository/index.js';

/** Files staged at once at most: each holds a descriptor open while the download runs. */
const MAX_STAGED_FILES = 256;

/** A staged file as checkout takes it: its temporary path, and the offsets already holding their chunk. */
export interface StagedFile {
  tmp: string;
  filled: Set<number>;
}

interface Staged extends StagedFile {
  fd: number;
  file: string;
}

/**
 * StagedFiles builds the files of one version in `.mvm/tmp` while their
 * chunks download: each downloaded chunk, once verified, is also written at
 * its offsets in those files, so a clone decodes every chunk once and checkout
 * only renames what is complete (and restores from the store whatever was
 * not downloaded). Nothing here is trusted by itself: a staged file is used
 * only for the path and file object it was made for, and every byte in it is
 * a chunk that was verified against its id.
 */
export class StagedFiles {
  private readonly files = new Map<string, Staged>();
  /** chunk id -> [fd, offset, fd, offset, ...] */
  private readonly places = new Map<string, number[]>();
  private readonly fdPath = new Map<number, string>();

  private constructor() {}

  /** Opens a sized temporary file for each file of `files` (up to a limit) and maps every chunk to its places. */
  static create(repo: Repository, files: Record<string, FileEntry>, fileOf: (id: string) => FileObject): StagedFiles {
    const s = new StagedFiles();
    try {
      for (const [path, entry] of Object.entries(files).slice(0, MAX_STAGED_FILES)) {
        const f = fileOf(entry.file);
        const tmp = tempPath(repo.tmpDir, 'co');
        let fd: number;
        try {
          fd = openSync(tmp, 'wx', 0o600);
        } catch (e) {
          throw fromSystemError(e, tmp, 'writing');
        }
        s.files.set(path, { tmp, fd, file: entry.file, filled: new Set() });
        s.fdPath.set(fd, path);
        ftruncateSync(fd, f.size);
        let offset = 0;
        for (const c of f.chunks) {
          const at = s.places.get(c.id);
          if (at) at.push(fd, offset);
          else s.places.set(c.id, [fd, offset]);
          offset += c.size;
        }
      }
    } catch (e) {
      s.discard();
      throw e;
    }
    return s;
  }

  /** Where a chunk goes in the staged files, as [fd, offset, ...], or undefined. */
  placesOf(chunk: string): number[] | undefined {
    return this.places.get(chunk);
  }

  /** Records that a chunk has been written at all its places. */
  filled(chunk: string): void {
    const at = this.places.get(chunk);
    if (!at) return;
    for (let i = 0; i < at.length; i += 2) {
      const path = this.fdPath.get(at[i]!);
      if (path) this.files.get(path)?.filled.add(at[i + 1]!);
    }
  }

  /** Closes every descriptor; the files stay for `take`. Call before checkout. */
  close(): void {
    for (const f of this.files.values()) {
      if (f.fd >= 0) closeSync(f.fd);
      f.fd = -1;
    }
    this.fdPath.clear();
  }

  /** The offsets a staged file for this path and file object already holds, without taking it. */
  peek(path: string, file: string): Set<number> | null {
    const f = this.files.get(path);
    return f && f.file === file ? f.filled : null;
  }

  /** Hands a staged file to checkout (which then owns it) when it was made for this path and file object. */
  take(path: string, file: string): StagedFile | null {
    const f = this.files.get(path);
    if (!f || f.file !== file || f.fd >= 0) return null;
    this.files.delete(path);
    return { tmp: f.tmp, filled: f.filled };
  }

  /** Closes and removes every staged file nobody took. */
  discard(): void {
    this.close();
    for (const f of this.files.values()) rmSync(f.tmp, { force: true });
    this.files.clear();
    this.places.clear();
  }
}
