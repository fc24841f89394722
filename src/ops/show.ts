import { type FileTensors, listTensors, storedModelMetadata } from '../repo/insight/index.js';
import type { ModelMetadata } from '../core/formats/metadata.js';
import { setKey } from '../core/values.js';
import type { Annotation, Version } from '../core/objects.js';
import { ensureVersionFiles, type Repository } from '../repo/repository/index.js';
import { resolveRevision, numberOf, refNames, annotationsOf, overlayMetrics } from '../repo/history/index.js';
import { isMvmError, MvmError } from '../errors.js';
import { checkSignatures, signaturesOf, type VersionSignatures } from '../repo/signing/index.js';

/** A version in full: its manifest, number, refs, annotations and stored size. */
export interface ShowResult {
  id: string;
  number: number | null;
  refs: string[];
  version: Version;
  /** Annotations oldest first, with their object ids. */
  annotations: (Annotation & { id: string })[];
  /** Metrics as recorded, overlaid by annotations (newest wins). */
  metrics: Version['metrics'];
  logicalBytes: number;
  /** Each model file's format and own metadata (safetensors `__metadata__`, GGUF key-values, ONNX props). */
  models: Record<string, ModelMetadata>;
  /** Its signatures, checked against the allowed signers (ssh-keygen runs once to three times per signature). */
  signatures: VersionSignatures;
}

/** A version's signatures checked; without ssh-keygen they are listed as not verified rather than failing show. */
function signaturesFor(repo: Repository, id: string): VersionSignatures {
  try {
    return checkSignatures(repo, id);
  } catch (e) {
    if (!isMvmError(e, 'SIGNING_FAILED')) throw e;
    const r = checkSignaturesUnchecked(repo, id);
    for (const s of r.signatures) s.reason = e.message;
    return r;
  }
}

function checkSignaturesUnchecked(repo: Repository, id: string): VersionSignatures {
  const ids = signaturesOf(repo, id);
  return {
    target: id,
    status: ids.length ? 'unverified' : 'unsigned',
    principals: [],
    signatures: ids.map((s) => ({ id: s, status: 'unverified' as const })),
    allowedSigners: null,
  };
}

/** Everything known about one version. */
export async function show(repo: Repository, rev = 'HEAD'): Promise<ShowResult> {
  const id = resolveRevision(repo, rev);
  const version = repo.version(id);
  const annotations = annotationsOf(repo, id);
  await ensureVersionFiles(repo, [id]);
  const models: Record<string, ModelMetadata> = {};
  for (const [path, e] of Object.entries(version.files)) {
    const m = await storedModelMetadata(repo, repo.file(e.file));
    if (m) setKey(models, path, m);
  }
  return {
    id,
    number: numberOf(repo, id),
    refs: refNames(repo).get(id) ?? [],
    version,
    annotations,
    metrics: overlayMetrics(version, annotations),
    logicalBytes: Object.values(version.files).reduce((s, f) => s + f.size, 0),
    models,
    signatures: signaturesFor(repo, id),
  };
}

/** A version's tracked files, tensor by tensor, as `mvm show --tensors` lists them. */
export interface ShowTensorsResult {
  id: string;
  number: number | null;
  /** The path asked for (a file or a folder of the version, as the version names it), or null for every file. */
  path: string | null;
  files: FileTensors[];
  totals: {
    files: number;
    tensors: number;
    bytes: number;
    chunks: number;
    /** Stored bytes of the distinct chunks of the files listed (a chunk two files share counted once). */
    stored: number;
  };
}

/** A path as the version names its files: no leading `./`, no trailing `/`; '' for the whole version. */
function versionPath(path: string): string {
  const rel = path.replace(/^(\.\/)+/, '').replace(/\/+$/, '');
  return rel === '.' ? '' : rel;
}

/** The files of a version under `rel` (the file itself, or a folder's files); PATH_NOT_FOUND when none. */
function filesAt(version: Version, id: string, rel: string | null): [string, string][] {
  const all = Object.entries(version.files);
  const hit = all.filter(([p]) => !rel || p === rel || p.startsWith(`${rel}/`));
  if (rel && !hit.length)
    throw new MvmError('PATH_NOT_FOUND', `version ${id.slice(0, 12)} has no file ${rel} (nor a folder of that name)`, {
      id,
      path: rel,
      hint: `'mvm show ${id.slice(0, 12)}' lists its files`,
    });
  return hit.map(([p, e]) => [p, e.file]);
}

/**
 * Every tensor of a version's files (or of the file or folder `path`): name,
 * dtype, shape, bytes, chunks, their encodings and stored size. Reads file
 * objects (a partial store fetches those it lacks) and the stored chunks'
 * headers, never their data.
 */
export async function showTensors(repo: Repository, rev = 'HEAD', path?: string): Promise<ShowTensorsResult> {
  const id = resolveRevision(repo, rev);
  const version = repo.version(id);
  await ensureVersionFiles(repo, [id]);
  const rel = path === undefined ? null : versionPath(path);
  const { files, stored } = listTensors(repo, filesAt(version, id, rel));
  return {
    id,
    number: numberOf(repo, id),
    path: rel,
    files,
    totals: {
      files: files.length,
      tensors: files.reduce((s, f) => s + f.tensors.length, 0),
      bytes: files.reduce((s, f) => s + f.size, 0),
      chunks: files.reduce((s, f) => s + f.chunks, 0),
      stored,
    },
  };
}
