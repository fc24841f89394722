/** Whether larger values of a metric are better, or smaller ones. */
export type Direction = 'higher' | 'lower';

const LOWER =
  /(^|[._-])(loss|error|err|latency|latency_ms|perplexity|ppl|wer|cer|mae|mse|rmse|time|seconds|ms|size|memory)($|[._-])/i;
const HIGHER =
  /(^|[._-])(acc|accuracy|f1|precision|recall|auc|roc_auc|bleu|rouge\w*|map|ndcg|score|top1|top5|top-1|top-5|throughput|iou|dice|r2)($|[._-])/i;

/** The direction a metric's name implies (loss, latency, error... lower; accuracy, f1, recall... higher), or null. */
export function metricDirection(name: string): Direction | null {
  if (LOWER.test(name)) return 'lower';
  if (HIGHER.test(name)) return 'higher';
  return null;
}
