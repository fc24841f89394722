import { isAbsolute, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MvmError } from '../../errors.js';
import type { RemoteBackend } from './backend.js';
import { FolderBackend } from './folder.js';
import { S3Backend } from './s3.js';

/** How a remote is reached, as kept in the remotes file (never credentials). */
export interface RemoteSpec {
  url: string;
  endpoint?: string;
  region?: string;
  pathStyle?: boolean;
}

/** A remote URL taken apart: an S3 bucket and prefix, or a folder. */
export type RemoteTarget = { kind: 's3'; bucket: string; prefix: string } | { kind: 'folder'; path: string };

const BUCKET_RE = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/**
 * Parses `s3://bucket/prefix`, `file:///path` or a plain path (made absolute
 * against `cwd`). Refuses URLs that carry credentials or odd characters.
 */
export function parseRemoteUrl(url: string, cwd: string): RemoteTarget {
  const bad = (why: string) =>
    new MvmError('BAD_VALUE', `remote URL '${url.replace(/\/\/[^/@]*@/, '//***@')}' ${why}`, {
      hint: 'use s3://bucket/prefix, file:///path or a folder path',
    });
  if (url.startsWith('s3://')) {
    const rest = url.slice(5);
    if (rest.includes('@')) throw bad('must not hold credentials (they come from the AWS environment)');
    const [bucket, ...parts] = rest.split('/');
    if (!bucket || !BUCKET_RE.test(bucket)) throw bad('does not name a valid bucket');
    const prefix = parts.filter(Boolean).join('/');
    if (prefix && !/^[A-Za-z0-9._\-/]+$/.test(prefix))
      throw bad('has a prefix with characters other than letters, digits, . _ - /');
    if (prefix.split('/').some((p) => p === '.' || p === '..')) throw bad("has '.' or '..' in its prefix");
    return { kind: 's3', bucket, prefix };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !url.startsWith('file://')) throw bad('has a scheme mvm does not know');
  const path = url.startsWith('file://') ? fileURLToPath(url) : url;
  if (!path) throw bad('is empty');
  return { kind: 'folder', path: isAbsolute(path) ? path : resolve(cwd, path) };
}

/** Opens the backend for a remote. */
export function openBackend(spec: RemoteSpec, cwd: string): RemoteBackend {
  const t = parseRemoteUrl(spec.url, cwd);
  if (t.kind === 'folder') return new FolderBackend(spec.url, t.path);
  return new S3Backend({
    url: spec.url,
    bucket: t.bucket,
    prefix: t.prefix,
    endpoint: spec.endpoint,
    region: spec.region,
    pathStyle: spec.pathStyle,
  });
}
