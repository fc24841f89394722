import { storedModelMetadata } from '../repo/insight/index.js';
import type { ModelMetadata } from '../core/formats/metadata.js';
import { setKey } from '../core/values.js';
import type { Annotation, Version } from '../core/objects.js';
import type { Repository } from '../repo/repository/index.js';
import { resolveRevision, numberOf, refNames, annotationsOf, overlayMetrics } from '../repo/history/index.js';
import { isMvmError } from '../errors.js';
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
