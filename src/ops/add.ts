import { existsSync, lstatSync } from 'node:fs';
import { resolve } from 'node:path';
import { MvmError, fromSystemError } from '../errors.js';
import { type Repository, addIgnores, ignoreLine, removeIgnores, withLock } from '../repo/repository/index.js';
import {
  isCovered,
  symlinkError,
  symlinkOnPath,
  expandGlob,
  isGlob,
  pathspecMatcher,
  ignoreRules,
} from '../repo/workspace/index.js';

/** What `mvm add` / `mvm rm` changed. */
export interface TrackResult {
  /** Path specs now tracked that were not before (add), or no longer tracked (rm). */
  changed: string[];
  /** Path specs that needed no change. */
  unchanged: string[];
  /** Lines added to or removed from .gitignore. */
  gitignore: string[];
  tracked: string[];
}

/** Starts tracking files or folders: they become part of every later commit, and git is told to ignore them. */
export async function add(repo: Repository, given: string[], cwd = process.cwd()): Promise<TrackResult> {
  if (!given.length) throw new MvmError('BAD_ARGUMENT', 'nothing to add: name files or folders to track');
  // a glob pattern that names no existing path is matched against the workspace's files, as git does
  const paths = given.flatMap((p) => {
    if (!isGlob(p) || existsSync(resolve(cwd, p))) return [p];
    repo.relPath(cwd, cwd); // cwd itself must be inside the workspace
    const found = expandGlob(repo.root, resolve(cwd), p, ignoreRules(repo.root)).map((rel) => repo.abs(rel));
    if (!found.length)
      throw new MvmError('PATH_NOT_FOUND', `no file matches '${p}'`, {
        path: p,
        hint: "a pattern without '/' matches file names in every folder below here; check .mvmignore",
      });
    return found;
  });
  const rels = paths.map((p) => repo.relPath(p, cwd));
  const kinds = rels.map((rel, i) => {
    if (rel === '.')
      throw new MvmError('BAD_ARGUMENT', 'cannot track the whole workspace root', {
        path: paths[i],
        hint: 'track the folders that hold your models',
      });
    try {
      const st = lstatSync(repo.abs(rel));
      if (!st.isFile() && !st.isDirectory())
        throw new MvmError('BAD_ARGUMENT', `'${paths[i]}' is neither a regular file nor a folder`, { path: paths[i] });
      return st.isDirectory();
    } catch (e) {
      throw fromSystemError(
        e,
        paths[i]!,
        'reading',
        new MvmError('PATH_NOT_FOUND', `'${paths[i]}' does not exist`, {
          path: paths[i],
          hint: 'check the path; mvm tracks files and folders that exist',
        }),
      );
    }
  });
  // `lnk/w.bin` with lnk a symlink to a folder outside: lstat above follows lnk and sees a file
  const linked = rels.flatMap((rel) => {
    const link = symlinkOnPath(repo, rel, false);
    return link ? [{ path: rel, link }] : [];
  });
  if (linked.length) throw symlinkError(repo, linked, 'mvm add');
  return withLock(repo, 'add', async () => {
    const tracked = repo.tracked();
    const changed: string[] = [];
    const unchanged: string[] = [];
    for (const rel of rels) (isCovered(rel, tracked) || changed.includes(rel) ? unchanged : changed).push(rel);
    // a new folder spec absorbs specs inside it
    const next = [...tracked.filter((t) => !changed.some((c) => t.startsWith(`${c}/`))), ...changed];
    repo.setTracked(next);
    const lines = rels.map((rel, i) => ignoreLine(rel, kinds[i]!));
    const gitignore = addIgnores(repo.root, lines);
    return { changed, unchanged, gitignore, tracked: repo.tracked() };
  });
}

/** Stops tracking files or folders; the files stay in the workspace and in earlier versions. */
export async function rm(repo: Repository, paths: string[], cwd = process.cwd()): Promise<TrackResult> {
  if (!paths.length) throw new MvmError('BAD_ARGUMENT', 'nothing to remove: name tracked files or folders');
  return withLock(repo, 'rm', async () => {
    const tracked = repo.tracked();
    // a glob pattern untracks the tracked paths it matches (relative to where it was typed)
    const base = repo.relPath(cwd, cwd);
    const rels = paths.flatMap((p) => {
      if (!isGlob(p) || tracked.includes(repo.relPath(p, cwd))) return [repo.relPath(p, cwd)];
      const match = pathspecMatcher(p);
      const hits = tracked.filter(
        (t) => (base === '.' ? true : t.startsWith(`${base}/`)) && match(base === '.' ? t : t.slice(base.length + 1)),
      );
      if (!hits.length)
        throw new MvmError('NOT_TRACKED', `no tracked path matches '${p}'`, {
          path: p,
          hint: `tracked paths: ${tracked.join(', ') || '(none)'}`,
        });
      return hits;
    });
    for (const rel of rels) {
      if (!tracked.includes(rel) && !tracked.some((t) => t.startsWith(`${rel}/`))) {
        const hint = isCovered(rel, tracked)
          ? `it is inside a tracked folder; untrack that folder instead`
          : `tracked paths: ${tracked.join(', ') || '(none)'}`;
        throw new MvmError('NOT_TRACKED', `'${rel}' is not tracked`, { path: rel, hint });
      }
    }
    const removed = tracked.filter((t) => rels.some((r) => t === r || t.startsWith(`${r}/`)));
    repo.setTracked(tracked.filter((t) => !removed.includes(t)));
    const gitignore = removeIgnores(
      repo.root,
      removed.flatMap((r) => [ignoreLine(r, false), ignoreLine(r, true)]),
    );
    return { changed: removed, unchanged: [], gitignore, tracked: repo.tracked() };
  });
}
