/**
 * Writers for tiny but valid model files (safetensors, GGUF, PyTorch zip,
 * ONNX) used as test fixtures, plus deterministic data generators. They are
 * written independently of src/core/formats so the parsers are checked
 * against a second implementation of each format.
 *
 * Each format's writer lives in test/helpers/formats/<format>.ts; this file
 * gathers them so a test imports every writer from one place.
 */
export * from './data.js';
export { pbBytes, pbVarint, varint } from './formats/bytes.js';
export * from './formats/gguf.js';
export * from './formats/numpy.js';
export * from './formats/onnx.js';
export * from './formats/safetensors.js';
export * from './formats/source.js';
export * from './formats/tfBundle.js';
export * from './formats/tflite.js';
export * from './formats/zip.js';
