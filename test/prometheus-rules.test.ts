import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { definedMetricNames, promqlMetricNames, unknownLabels } from './support/metric-names.js';

// The alert rules in ops/prometheus are checked by promtool (syntax, then their unit tests: each alert fires on a
// synthetic series and stays silent on a normal one), and every metric they name must be one the hub defines,
// so a renamed metric cannot leave a rule that never fires. Without promtool the promtool part is skipped,
// unless PROMTOOL_REQUIRED=1 (CI) makes its absence a failure.

const DIR = fileURLToPath(new URL('../ops/prometheus/', import.meta.url));
const RULES = 'hub-alerts.yml';
const RULE_TESTS = 'hub-alerts.test.yml';
const PROMTOOL = process.env.PROMTOOL ?? 'promtool';

function promtool(...args: string[]) {
  return spawnSync(PROMTOOL, args, { cwd: DIR, encoding: 'utf8', timeout: 60_000 });
}

const installed = !promtool('--version').error;
const required = process.env.PROMTOOL_REQUIRED === '1';

describe('Prometheus alert rules (ops/prometheus)', () => {
  it.skipIf(installed || !required)('has promtool where PROMTOOL_REQUIRED=1', () => {
    expect.fail(`PROMTOOL_REQUIRED=1 but "${PROMTOOL}" cannot be run: install the prometheus package.`);
  });

  it.skipIf(!installed)('pass promtool check rules and their unit tests (promtool test rules)', () => {
    for (const args of [
      ['check', 'rules', RULES],
      ['test', 'rules', RULE_TESTS],
    ]) {
      const run = promtool(...args);
      expect(run.error, `promtool ${args.join(' ')}`).toBeUndefined();
      expect(run.status, `promtool ${args.join(' ')}:\n${run.stdout}${run.stderr}`).toBe(0);
    }
  });

  it('name only metrics the hub defines, by labels they have, and each rule file names some', async () => {
    const defined = await definedMetricNames();
    for (const file of [RULES, RULE_TESTS]) {
      const text = readFileSync(DIR + file, 'utf8');
      expect(unknownLabels(text), `${file} selects by labels the metrics do not have`).toEqual([]);
      const used = promqlMetricNames(text);
      expect(used.length, file).toBeGreaterThan(5);
      expect(
        used.filter((name) => !defined.has(name)),
        `${file} names metrics the hub does not define`,
      ).toEqual([]);
    }
  });
});
