/** Whether larger values of a metric are better, or smaller ones. */
export type Direction = 'higher' | 'lower';

/** A regex matching any of `words` as a whole part of a metric name (parts are split by `.`, `_` or `-`). */
const namePart = (words: string) => new RegExp(`(^|[._-])(${words})($|[._-])`, 'i');
const LOWER = namePart(
  'loss|error|err|latency|latency_ms|perplexity|ppl|wer|cer|mae|mse|rmse|time|seconds|ms|size|memory',
);
const HIGHER = namePart(
  'acc|accuracy|f1|precision|recall|auc|roc_auc|bleu|rouge\\w*|map|ndcg|score|' +
    'top1|top5|top-1|top-5|throughput|iou|dice|r2',
);

/** The direction a metric's name implies (loss, latency, error... lower; accuracy, f1, recall... higher), or null. */
export function metricDirection(name: string): Direction | null {
  if (LOWER.test(name)) return 'lower';
  if (HIGHER.test(name)) return 'higher';
  return null;
}
