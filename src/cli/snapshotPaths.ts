import { dirname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

// Where a process started from the start-up snapshot finds its package (src/cli/snapshot.ts). A module of its
// own because the snapshot's entry may export nothing (its builder gives it no `module`).

/** The blob this process started from (`--snapshot-blob PATH` or `--snapshot-blob=PATH`), or null. */
export function blobPath(execArgv: string[]): string | null {
  for (let i = 0; i < execArgv.length; i++) {
    const a = execArgv[i]!;
    if (a === '--snapshot-blob') return execArgv[i + 1] ?? null;
    if (a.startsWith('--snapshot-blob=')) return a.slice('--snapshot-blob='.length);
  }
  return null;
}

/** The URL of dist/bundle/mvm.js for a blob at dist/snapshot/mvm.blob. */
export function bundleUrlFor(blob: string): string {
  return pathToFileURL(resolve(dirname(blob), '..', 'bundle', 'mvm.js')).href;
}
