import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MikroORM } from '@mikro-orm/postgresql';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { createLogger } from '../server/logger.js';
import { migrate, openOrm } from '../server/orm.js';
import { createTestDatabase } from './support/database.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { definedMetricNames, promqlMetricNames, unknownLabels } from './support/metric-names.js';

// ops/grafana/order-hub.json (made by build-dashboard.mjs): every panel has a datasource and queries, its PromQL
// names only metrics the hub defines (and parses, where promtool is installed), and its SQL runs on a migrated
// database, Grafana's macros and variables replaced as Grafana would, finding the rows it is meant to find.

const FILE = fileURLToPath(new URL('../ops/grafana/order-hub.json', import.meta.url));

interface Target {
  refId: string;
  datasource?: { type: string; uid: string };
  expr?: string;
  rawSql?: string;
}
interface Panel {
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  name: string;
  type: string;
  query: unknown;
  current?: { value: string };
}

const dashboard = JSON.parse(readFileSync(FILE, 'utf8')) as {
  panels: Panel[];
  templating: { list: Variable[] };
};
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]).filter((p) => p.type !== 'row');
const variables = new Map(dashboard.templating.list.map((v) => [v.name, v]));
const targets = (type: string) =>
  panels.filter((p) => p.datasource?.type === type).flatMap((p) => p.targets!.map((t) => ({ panel: p, t })));

/** Grafana's `$var` and `${var}` with the variable's default; `$__timeFilter(col)` as the last day. */
function asGrafanaRuns(sql: string): string {
  return sql
    .replace(/\$__timeFilter\(([^)]+)\)/g, "$1 between now() - interval '1 day' and now()")
    .replace(/\$\{?([a-z_]+)\}?/g, (whole, name: string) => {
      const variable = variables.get(name);
      if (!variable?.current) throw new Error(`${whole} is not a variable of the dashboard`);
      return variable.current.value;
    });
}

describe('the Grafana dashboard (ops/grafana/order-hub.json)', () => {
  it('is what build-dashboard.mjs writes (edit the script, not the JSON)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dashboard-'));
    try {
      const out = join(dir, 'order-hub.json');
      const built = spawnSync(process.execPath, [
        fileURLToPath(new URL('../ops/grafana/build-dashboard.mjs', import.meta.url)),
        out,
      ]);
      expect(built.status, built.stderr?.toString()).toBe(0);
      expect(JSON.parse(readFileSync(out, 'utf8'))).toEqual(dashboard);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('has a Prometheus and a PostgreSQL datasource variable, and every panel a datasource and queries', () => {
    expect(variables.get('prometheus')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(variables.get('postgres')).toMatchObject({
      type: 'datasource',
      query: 'grafana-postgresql-datasource',
    });
    expect(panels.length).toBeGreaterThan(10);
    for (const panel of panels) {
      expect(panel.datasource?.uid, panel.title).toMatch(/^\$\{(prometheus|postgres)\}$/);
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const t of panel.targets!) {
        expect(t.datasource, panel.title).toEqual(panel.datasource);
        expect(t.expr ?? t.rawSql, panel.title).toBeTruthy();
      }
    }
  });

  it('names only metrics the hub defines, by labels they have', async () => {
    const defined = await definedMetricNames();
    const queries = [
      ...targets('prometheus').map(({ panel, t }) => ({ where: panel.title, expr: t.expr! })),
      ...dashboard.templating.list
        .filter((v) => v.type === 'query')
        .map((v) => ({ where: `variable ${v.name}`, expr: JSON.stringify(v.query) })),
    ];
    for (const { where, expr } of queries) {
      expect(unknownLabels(expr), where).toEqual([]);
      const names = promqlMetricNames(expr);
      expect(names.length, where).toBeGreaterThan(0);
      expect(
        names.filter((n) => !defined.has(n)),
        where,
      ).toEqual([]);
    }
  });

  const promtool = process.env.PROMTOOL ?? 'promtool';
  it.skipIf(spawnSync(promtool, ['--version']).error !== undefined)(
    'has PromQL that parses (promtool check rules over a rule per query)',
    () => {
      const rules = targets('prometheus').map(({ t }, i) => ({
        record: `dashboard:query_${i}`,
        expr: t.expr!.replaceAll('$__rate_interval', '5m').replaceAll('$instance', '.*'),
      }));
      const dir = mkdtempSync(join(tmpdir(), 'dashboard-promql-'));
      try {
        // JSON is YAML: no YAML library needed.
        writeFileSync(join(dir, 'rules.yml'), JSON.stringify({ groups: [{ name: 'dashboard', rules }] }));
        const run = spawnSync(promtool, ['check', 'rules', 'rules.yml'], {
          cwd: dir,
          encoding: 'utf8',
          timeout: 60_000,
        });
        expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  describe('its SQL on a migrated database', () => {
    let orm: MikroORM;
    let db: { url: string; drop(): Promise<void> };
    const sql = <T = Record<string, unknown>>(query: string) =>
      orm.em.getConnection().execute<T[]>(query, [], 'all');
    const run = (title: string) => {
      const panel = panels.find((p) => p.title === title);
      if (!panel) throw new Error(`no panel "${title}"`);
      return sql(asGrafanaRuns(panel.targets![0].rawSql!));
    };

    beforeAll(async () => {
      db = await createTestDatabase('grafana dashboard');
      orm = await openOrm(db.url, createLogger('silent'), { pool: { min: 0, max: 2 } });
      await migrate(orm);
      const channel = await seedChannel(orm, 'taobao-main', Platform.TAOBAO);
      await seedProduct(orm, 'MILK-1L', 10);
      await seedProduct(orm, 'TEA-500G', 0);
      const order = (externalId: string, status: string, sinceColumn: string, age: string) =>
        sql(`insert into "order" (channel_id, external_id, status, customer_name, ship_line1, total_amount,
                                  origin, placed_at, ${sinceColumn})
             values ('${channel.id}', '${externalId}', '${status}', 'Buyer', '1 Road', 10, 'WEBHOOK',
                     now() - interval '${age}', now() - interval '${age}')`);
      await order('PAID-OLD', 'PAID', 'paid_at', '2 days');
      await order('PAID-NEW', 'PAID', 'paid_at', '1 hour');
      await order('SHIPPED-OLD', 'SHIPPED', 'shipped_at', '10 days');
      await order('SHIPPED-NEW', 'SHIPPED', 'shipped_at', '2 days');
      await sql(`insert into stock_alert (kind, product_id, product_code, available, threshold, message)
                 select 'SUDDEN_DROP', product_id, product_code, 2, 10, 'fell' from inventory_item
                  where product_code = 'MILK-1L'`);
    });

    afterAll(async () => {
      await orm?.close();
      await db?.drop();
    });

    it('runs every SQL panel (EXPLAIN, then the query)', async () => {
      const queries = targets('grafana-postgresql-datasource');
      expect(queries.length).toBeGreaterThanOrEqual(4);
      for (const { panel, t } of queries) {
        const query = asGrafanaRuns(t.rawSql!);
        await expect(sql(`explain ${query}`), panel.title).resolves.toBeTruthy();
        await expect(sql(query), panel.title).resolves.toBeInstanceOf(Array);
      }
    });

    it('finds the orders stuck past the thresholds, the empty product and the sudden drop', async () => {
      expect(await run('The longest stuck orders')).toMatchObject([
        { external_id: 'SHIPPED-OLD', status: 'SHIPPED', channel: 'taobao-main' },
        { external_id: 'PAID-OLD', status: 'PAID', channel: 'taobao-main' },
      ]);
      expect(await run('Orders stuck past their threshold, by status and channel')).toMatchObject([
        { status: 'SHIPPED', channel: 'taobao-main', orders: '1' },
        { status: 'PAID', channel: 'taobao-main', orders: '1' },
      ]);
      expect(await run('Products with no or negative available stock')).toMatchObject([
        { product_code: 'TEA-500G', available: 0 },
      ]);
      expect(await run('Sudden drops in the time range')).toMatchObject([
        { product_code: 'MILK-1L', available_before: 10, available_after: 2, available_now: 10 },
      ]);
    });
  });
});
