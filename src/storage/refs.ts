import {
  appendFileSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  unlinkSync,
  statSync,
  openSync,
  fsyncSync,
  closeSync,
  fstatSync,
  readSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { writeFileAtomic } from './atomic.js';
import { logCheck } from '../core/logs.js';
import { faultPoint } from './faults.js';

/** What HEAD holds: a branch it follows, or a version it is detached at. */
export type Head = { kind: 'branch'; ref: string } | { kind: 'detached'; id: string };

const ID_RE = /^[0-9a-f]{64}$/;

/**
 * RefStore keeps refs as small files under `.mvm`, git-style: `HEAD`,
 * `refs/heads/*`, `refs/tags/*`, `refs/deployed`, and append-only JSON-lines
 * logs under `logs/`. Every ref write is temp-file-then-rename.
 */
export class RefStore {
  constructor(
    readonly mvmDir: string,
    private readonly tmpDir: string,
    private readonly fsync: boolean,
  ) {}

  private file(ref: string): string {
    return join(this.mvmDir, ref);
  }

  /** Reads HEAD; a repository without HEAD is corrupt. */
  readHead(): Head {
    const text = this.readText('HEAD');
    if (text === null)
      throw new MvmError('REF_CORRUPT', 'HEAD is missing', { path: this.file('HEAD'), hint: "run 'mvm fsck'" });
    if (text.startsWith('ref: ')) return { kind: 'branch', ref: text.slice(5) };
    if (ID_RE.test(text)) return { kind: 'detached', id: text };
    throw new MvmError('REF_CORRUPT', 'HEAD is corrupt', { path: this.file('HEAD'), value: text.slice(0, 80) });
  }

  /** Points HEAD at a branch ref (e.g. refs/heads/main) or detaches it at a version id. */
  writeHead(head: Head): void {
    this.writeText('HEAD', head.kind === 'branch' ? `ref: ${head.ref}` : head.id);
  }

  /** The id a ref holds, or null when it does not exist. Throws REF_CORRUPT on garbage. */
  read(ref: string): string | null {
    const text = this.readText(ref);
    if (text === null) return null;
    if (!ID_RE.test(text))
      throw new MvmError('REF_CORRUPT', `ref ${ref} is corrupt`, {
        path: this.file(ref),
        value: text.slice(0, 80),
        hint: "run 'mvm fsck'",
      });
    return text;
  }

  /** Sets a ref atomically. */
  write(ref: string, id: string): void {
    this.writeText(ref, id);
  }

  /** Removes a ref; returns false when it did not exist. */
  delete(ref: string): boolean {
    try {
      faultPoint('unlink', this.file(ref));
      unlinkSync(this.file(ref));
      return true;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw fromSystemError(e, this.file(ref), 'deleting');
    }
  }

  /** Every ref under a prefix such as `refs/heads/`, with its raw content (not validated). */
  list(prefix: string): { name: string; ref: string; value: string }[] {
    const out: { name: string; ref: string; value: string }[] = [];
    const walk = (rel: string) => {
      let entries: string[];
      try {
        entries = readdirSync(this.file(prefix + rel));
      } catch {
        return;
      }
      for (const e of entries.sort()) {
        const relPath = rel ? `${rel}/${e}` : e;
        if (statSync(this.file(prefix + relPath)).isDirectory()) walk(relPath);
        else out.push({ name: relPath, ref: prefix + relPath, value: this.readText(prefix + relPath) ?? '' });
      }
    };
    walk('');
    return out;
  }

  /** Appends one JSON entry to the log `logs/<name>`; a torn last line from a crash is skipped by readLog. */
  appendLog(name: string, entry: object): void {
    const path = this.file(`logs/${name}`);
    try {
      // a line torn by a crash has no newline: start a fresh line so this entry stays readable
      const torn = this.endsTorn(path);
      mkdirSync(dirname(path), { recursive: true });
      faultPoint('append', path);
      appendFileSync(path, (torn ? '\n' : '') + JSON.stringify(entry) + '\n');
      if (this.fsync) {
        const fd = openSync(path, 'r');
        try {
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      }
    } catch (e) {
      throw fromSystemError(e, path, 'writing');
    }
  }

  /** Replaces the log `logs/<name>` whole (atomically) with these entries; a reader sees the old log or the new one. */
  replaceLog(name: string, entries: readonly object[]): void {
    const path = this.file(`logs/${name}`);
    mkdirSync(dirname(path), { recursive: true });
    writeFileAtomic(path, entries.map((e) => `${JSON.stringify(e)}\n`).join(''), {
      tmpDir: this.tmpDir,
      fsync: this.fsync,
    });
  }

  private endsTorn(path: string): boolean {
    let fd = -1;
    try {
      fd = openSync(path, 'r');
      const size = fstatSync(fd).size;
      if (size === 0) return false;
      const last = Buffer.alloc(1);
      readSync(fd, last, 0, 1, size - 1);
      return last[0] !== 0x0a;
    } catch {
      return false;
    } finally {
      if (fd >= 0) closeSync(fd);
    }
  }

  /**
   * The entries of a log, oldest first. Lines that do not parse (a torn
   * write) or fail `check` (by default the log's shape from core/logs.ts)
   * are dropped; `logProblems` lists them.
   */
  readLog<T = Record<string, unknown>>(name: string, check?: (v: unknown) => boolean): T[] {
    return this.scanLog<T>(name, check).entries;
  }

  /**
   * The lines of a log that readLog drops, 1-based, except a last line torn by a crash (the next append starts afresh).
   */
  logProblems(name: string, check?: (v: unknown) => boolean): { line: number; text: string }[] {
    return this.scanLog(name, check).bad;
  }

  /**
   * Rewrites a log without the lines readers skip (atomically), appending
   * those lines to `logs/<name>.rejected` first so nothing is lost. Returns
   * how many lines were moved. Call with the lock held.
   */
  dropBadLogLines(name: string): number {
    const text = this.readText(`logs/${name}`, false);
    if (!text) return 0;
    const lines = text.split('\n').filter((l) => l !== '');
    const { entries } = this.scanLog<unknown>(name);
    const keep = entries.map((e) => JSON.stringify(e));
    const dropped = lines.length - keep.length;
    if (!dropped) return 0;
    const kept = new Set(keep);
    const rejected = lines.filter((l) => {
      try {
        return !kept.has(JSON.stringify(JSON.parse(l)));
      } catch {
        return true;
      }
    });
    const path = this.file(`logs/${name}.rejected`);
    try {
      faultPoint('append', path);
      appendFileSync(path, rejected.join('\n') + '\n');
    } catch (e) {
      throw fromSystemError(e, path, 'writing');
    }
    writeFileAtomic(this.file(`logs/${name}`), keep.map((l) => `${l}\n`).join(''), {
      tmpDir: this.tmpDir,
      fsync: this.fsync,
    });
    return dropped;
  }

  private scanLog<T>(
    name: string,
    given?: (v: unknown) => boolean,
  ): { entries: T[]; bad: { line: number; text: string }[] } {
    // the logs mvm writes have a known shape (core/logs.ts); a line that does not fit never reaches a reader
    const check = given ?? logCheck(name);
    const text = this.readText(`logs/${name}`, false);
    const entries: T[] = [];
    const bad: { line: number; text: string }[] = [];
    if (!text) return { entries, bad };
    const lines = text.split('\n');
    lines.forEach((line, i) => {
      if (!line) return;
      let v: unknown;
      try {
        v = JSON.parse(line);
      } catch {
        if (i < lines.length - 1) bad.push({ line: i + 1, text: line.slice(0, 80) });
        return;
      }
      if (check && !check(v)) bad.push({ line: i + 1, text: line.slice(0, 80) });
      else entries.push(v as T);
    });
    return { entries, bad };
  }

  private readText(ref: string, trim = true): string | null {
    try {
      const t = readFileSync(this.file(ref), 'utf8');
      return trim ? t.trim() : t;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw fromSystemError(e, this.file(ref), 'reading');
    }
  }

  private writeText(ref: string, text: string): void {
    writeFileAtomic(this.file(ref), text + '\n', { tmpDir: this.tmpDir, fsync: this.fsync });
  }
}
