/**
 * Size limits, each named once here and imported wherever it applies: the
 * caps that keep a hostile or corrupt input from turning into unbounded
 * memory (every decode, parser and remote read checks one before it
 * allocates), and the sizes in which data travels. Pure constants, so core/
 * may use them: the one the environment may change, PACK_SIZE, is overridden
 * by MVM_PACK_SIZE through src/settings.ts. Caps on nesting depth and item
 * counts that only one parser's grammar knows stay beside that parser.
 */

// ---- Stored objects ----

/** Smallest chunk size a repository may be created with. */
export const MIN_CHUNK_SIZE = 64;
/** Largest chunk size a repository may be created with: 256 MiB. */
export const MAX_CHUNK_SIZE = 256 << 20;
/**
 * Most bytes any stored object may decode to: a chunk of the largest size a
 * repository may be made with (MAX_CHUNK_SIZE). Every decode refuses a
 * larger header before it allocates.
 */
export const MAX_OBJECT_SIZE = MAX_CHUNK_SIZE;
/** Most bytes a version manifest or a file object may decode to: JSON lists far below the chunks they name. */
export const MAX_METADATA_SIZE = 64 << 20;

// ---- Derived files in .mvm ----

/** Largest stat cache read (about 200 bytes a tracked file: a million files); a larger one is dropped and rebuilt. */
export const MAX_STAT_CACHE = 256 << 20;

// ---- Remotes ----

/**
 * Largest file of each kind read whole from a remote, checked before a byte
 * is read (a folder's size from stat, an S3 object's from its Content-Length),
 * so a huge or sparse file is refused as REMOTE_CORRUPT instead of read.
 */
export const REMOTE_LIMITS = {
  /** A ref: one version id and a newline (65 bytes); room for a little more. */
  ref: 1024,
  /** `mvm-remote.json`. */
  config: 64 << 10,
  /** The number registry: 65 bytes a version, so about a million versions. */
  registry: 64 << 20,
  /** A pack index: about 90 bytes an object. */
  packIndex: 128 << 20,
  /** An environment's file (`envs/<env>.json`): its settings and every move, about 250 bytes a move. */
  env: 16 << 20,
  /** Anything else read whole. */
  other: 128 << 20,
} as const;

/** Largest pack a pack index may describe (its objects' last byte): packs are cut at tens of MiB. */
export const MAX_PACK_BYTES = 2 ** 32;
/** Bytes of stored objects per pack a push writes (as Xet groups chunks in 64 MiB xorbs); MVM_PACK_SIZE overrides. */
export const PACK_SIZE = 64 << 20;
/** A pack travels in parts of this size (a multipart upload on S3), so memory holds a part per job, not a pack. */
export const PACK_PART_SIZE = 8 << 20;
/** Largest ranged read: neighbouring objects of one pack are fetched together up to this many bytes. */
export const FETCH_MAX_RANGE = 8 << 20;
/** A gap between wanted objects in a pack that is cheaper to download than to skip with another request. */
export const FETCH_MAX_GAP = 256 << 10;
/** Largest ranged read of a pack while checking it: memory holds about one per job, whatever the remote's size. */
export const CHECK_RANGE = 8 << 20;

// ---- Model files (what a parser reads of a file it is given) ----

/** Largest `.onnx` file read to find the tensors it keeps in an external-data file beside it (protobuf's own limit). */
export const ONNX_MAX_BYTES = 2 ** 31;
/** Largest safetensors JSON header we are willing to read (the reference implementation's limit). */
export const SAFETENSORS_MAX_HEADER = 100 * 1024 * 1024;
/** Largest GGUF metadata + tensor-info region we are willing to walk. */
export const GGUF_MAX_HEADER = 128 * 1024 * 1024;
/** Longest GGUF metadata key or tensor name read, in bytes. */
export const GGUF_MAX_NAME = 1024 * 1024;
/** Longest ONNX protobuf name field read, in bytes. */
export const ONNX_MAX_NAME = 1024 * 1024;
/** Largest `.npy` header we read (NumPy itself refuses headers over 10,000 bytes by default). */
export const NUMPY_MAX_HEADER = 64 * 1024;
/** Largest `metadata.json` read from a `.keras` archive. */
export const KERAS_MAX_METADATA = 64 * 1024;
/** At most this many bytes of one HDF5 object header block, heap or B-tree node are read. */
export const HDF5_MAX_BLOCK = 16 * 1024 * 1024;
/** Largest zip central directory (PyTorch, .keras) we are willing to read. */
export const ZIP_MAX_CENTRAL_DIRECTORY = 64 * 1024 * 1024;
/** Largest pickle scanned, and most values kept on the stack or in the memo. */
export const MAX_PICKLE = 64 * 1024 * 1024;
/** Upper bound on a model.json read for this (topology included): larger is not a TF.js manifest worth parsing. */
export const TFJS_MANIFEST_MAX_BYTES = 64 * 1024 * 1024;
/** Upper bound on a TensorFlow bundle index file read: larger is not a bundle index worth parsing. */
export const BUNDLE_INDEX_MAX_BYTES = 64 * 1024 * 1024;
/** Files with at most this many tensors list every one of them (tensorList.ts packs small ones past it). */
export const MAX_LISTED_TENSORS = 65_536;
/** Longest tensor name a parser gives, in characters (formats/names.ts). */
export const MAX_TENSOR_NAME = 1024;
/** Most bytes of UTF-8 a name may have to be decoded at all (4 per character at most). */
export const MAX_NAME_BYTES = 4 * MAX_TENSOR_NAME;
/** Most characters of tensor names one file gives, all its names together. */
export const MAX_NAME_CHARS = 16 * 1024 * 1024;

// ---- Signatures ----

/** Largest armored signature accepted (an RSA-16384 signature is about 3 KiB armored). */
export const MAX_SIGNATURE_TEXT = 8 << 10;
/** Largest signature object accepted, in bytes of canonical JSON. */
export const MAX_SIGNATURE_OBJECT = 10 << 10;
/** Most signatures of one version taken from a remote. */
export const MAX_SIGNATURES_PER_VERSION = 64;

// ---- Annotations ----

/** Largest annotation object taken from a remote (metrics and a note), in bytes of canonical JSON. */
export const MAX_ANNOTATION_OBJECT = 1 << 20;
/** Most annotations of one version taken from a remote. */
export const MAX_ANNOTATIONS_PER_VERSION = 4096;

// ---- Output of the programs mvm runs ----

/** Characters of an `mvm eval` command's stdout kept (its metrics are read from them). */
export const EVAL_MAX_STDOUT = 64 << 20;
/** Characters of an `mvm eval` command's stderr kept. */
export const EVAL_MAX_STDERR = 1 << 20;
/** Bytes of a deploy hook's output collected (spawnSync's maxBuffer). */
export const HOOK_MAX_OUTPUT = 16 << 20;
/** Bytes of `ssh-keygen` output collected when signing or verifying (spawnSync's maxBuffer). */
export const SSH_KEYGEN_MAX_OUTPUT = 1 << 20;
