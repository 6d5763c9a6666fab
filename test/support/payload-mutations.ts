// Corrupting a platform payload one field at a time, for the connectors' robustness tests.

/** Every path in a JSON value, as lists of keys and indexes. */
export function paths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (value === null || typeof value !== 'object') return [];
  const entries = Array.isArray(value)
    ? value.map((item, index) => [index, item] as const)
    : Object.entries(value);
  return entries.flatMap(([key, child]) => [[...prefix, key], ...paths(child, [...prefix, key])]);
}

/** `payload` with the value at `path` replaced by `replacement` (deleted when undefined). */
export function mutate(payload: unknown, path: (string | number)[], replacement: unknown): unknown {
  const copy: any = structuredClone(payload);
  const parent = path.slice(0, -1).reduce((node: any, key) => node[key], copy);
  const last = path[path.length - 1];
  if (replacement === undefined && !Array.isArray(parent)) delete parent[last];
  else parent[last] = replacement;
  return copy;
}
