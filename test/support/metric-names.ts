import { HubMetrics } from '../../services/metrics.js';
import { metricNames } from './prometheus-text.js';

/**
 * Every series name the hub's metrics define (histograms' `_bucket`, `_sum`, `_count` included), read from
 * the exposition of a fresh registry: a labelled metric with no sample yet still has its `# TYPE` line.
 */
export async function definedMetricNames(): Promise<Set<string>> {
  return metricNames(await new HubMetrics().exposition());
}

/** The metric names a PromQL expression refers to: the hub's own and the process metrics it exposes. */
export function promqlMetricNames(expr: string): string[] {
  return [...new Set(expr.match(/\b(?:hub|process|nodejs)_[a-zA-Z0-9_]+\b/g) ?? [])];
}
