/**
 * The insight wing: what a reader learns about versions without changing
 * them. Comparisons, version diffs with model metadata and tensor statistics
 * (`stats/`), the report's data and page, and a version's tensors as stored.
 */
export {
  type CompareColumn,
  type CompareOptions,
  type CompareResult,
  compareVersions,
  type MetricCell,
} from './comparison.js';
export { storedModelMetadata, workspaceModelMetadata } from './modelMetadata.js';
export { reportData, type ReportData, type ReportSelection, stateStamp } from './reportData.js';
export { reportHtml } from './reportPage.js';
export {
  type EncodingCounts,
  type FileTensors,
  listTensors,
  type OtherBytes,
  type TensorListing,
} from './tensorListing.js';
export {
  addMetadataChanges,
  addTensorStats,
  diffStored,
  type StatsPool,
  statsPool,
  type StoredDiff,
} from './versionDiff.js';
