import { Histogram } from 'prom-client';
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

/** Labels Prometheus adds to every series it scrapes. */
const TARGET_LABELS = ['instance', 'job'];

/** Each hub_ series name with the labels it may be selected by (the metric's own, `le` on buckets, the target's). */
export function definedHubLabels(): Map<string, Set<string>> {
  const labels = new Map<string, Set<string>>();
  for (const metric of new HubMetrics().registry.getMetricsAsArray()) {
    if (!metric.name.startsWith('hub_')) continue;
    const own = [...((metric as unknown as { labelNames?: string[] }).labelNames ?? []), ...TARGET_LABELS];
    labels.set(metric.name, new Set(own));
    if (metric instanceof Histogram) {
      labels.set(`${metric.name}_bucket`, new Set([...own, 'le']));
      labels.set(`${metric.name}_sum`, new Set(own));
      labels.set(`${metric.name}_count`, new Set(own));
    }
  }
  return labels;
}

/** `hub_x{a="1", b=~"…"}` selectors in PromQL (or in promtool's series strings): each name and its label names. */
export function hubSelectors(text: string): { name: string; labels: string[] }[] {
  return [...text.matchAll(/\b(hub_[a-zA-Z0-9_]+)\{([^}]*)\}/g)].map(([, name, inside]) => ({
    name,
    labels: [...inside.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)].map((m) => m[1]),
  }));
}

/** Selectors that name a label their metric does not have, as `metric{label}`. */
export function unknownLabels(text: string): string[] {
  const defined = definedHubLabels();
  return hubSelectors(text).flatMap(({ name, labels }) =>
    labels.filter((l) => !defined.get(name)?.has(l)).map((l) => `${name}{${l}}`),
  );
}
