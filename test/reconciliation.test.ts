import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import {
  dailySchedule,
  parseReconcileArgs,
  runDailyReconciliation,
  startDailyReconciliation,
  UsageError,
} from '../server/reconcile.js';
import { RequestContext } from '../services/context.js';
import { readStockCountsCsv, runScheduledReconciliation } from '../services/reconciliation.js';
import { seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';

const root = new URL('..', import.meta.url).pathname;
const logger = createLogger('silent');

interface Line {
  productCode: string;
  systemOnHand: number;
  physicalCount: number;
  differencePercent: number;
  mismatch: boolean;
}
interface Report {
  id: string;
  tolerancePercent: number;
  mismatches: number;
  createdAt: string;
  lines: Line[];
}

const RECONCILE = `mutation ($counts: [StockCountInput!]!, $tolerancePercent: Float) {
  reconcileInventory(counts: $counts, tolerancePercent: $tolerancePercent) {
    id tolerancePercent mismatches createdAt
    lines { productCode systemOnHand physicalCount differencePercent mismatch }
  }
}`;
const RECONCILE_DEFAULT = `mutation ($counts: [StockCountInput!]!) {
  reconcileInventory(counts: $counts) {
    id tolerancePercent mismatches
    lines { productCode systemOnHand physicalCount differencePercent mismatch }
  }
}`;

describe('reconcileInventory: physical counts against the system’s on-hand stock', () => {
  let hub: TestHub;
  let dir: string;
  const sql = <T = Record<string, unknown>>(q: string, p: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(q, p);
  const reconcile = async (counts: { productCode: string; physicalCount: number }[], tolerance?: number) => {
    const res = await hub.gql<{ reconcileInventory: Report }>(
      tolerance === undefined ? RECONCILE_DEFAULT : RECONCILE,
      tolerance === undefined ? { counts } : { counts, tolerancePercent: tolerance },
    );
    expect(res.errors).toBeUndefined();
    return res.data!.reconcileInventory;
  };
  const stored = async () => {
    const [row] = await sql<{ reports: number; lines: number; alerts: number }>(
      `select (select count(*)::int from reconciliation_report) as reports,
              (select count(*)::int from reconciliation_line) as lines,
              (select count(*)::int from stock_alert) as alerts`,
    );
    return row;
  };

  beforeAll(async () => {
    hub = await startTestHub('reconciliation');
    dir = await mkdtemp(join(tmpdir(), 'order-hub-reconcile-'));
    for (const code of ['MATCH-A', 'MATCH-B', 'OFF-A', 'OFF-B', 'EDGE-UP', 'EDGE-DOWN', 'EDGE-OVER']) {
      await seedProduct(hub.orm, code, 100);
    }
    for (const code of ['TOL-A', 'TOL-B', 'TOL-C', 'CLI-A', 'CLI-B', 'JOB-A'])
      await seedProduct(hub.orm, code, 100);
    await seedProduct(hub.orm, 'ZERO-BOTH', 0);
    await seedProduct(hub.orm, 'ZERO-FOUND', 0);
  });

  afterAll(async () => {
    await hub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('finds no mismatch when the counts agree, stores the report, and leaves stock as it was', async () => {
    const report = await reconcile([
      { productCode: 'MATCH-B', physicalCount: 100 },
      { productCode: 'MATCH-A', physicalCount: 100 },
    ]);
    expect(report).toMatchObject({ tolerancePercent: 3, mismatches: 0 });
    // Lines come back in the order of the counts given.
    expect(report.lines).toEqual([
      {
        productCode: 'MATCH-B',
        systemOnHand: 100,
        physicalCount: 100,
        differencePercent: 0,
        mismatch: false,
      },
      {
        productCode: 'MATCH-A',
        systemOnHand: 100,
        physicalCount: 100,
        differencePercent: 0,
        mismatch: false,
      },
    ]);
    expect(
      await sql(`select tolerance_percent, mismatches from reconciliation_report where id = ?`, [report.id]),
    ).toEqual([{ tolerance_percent: 3, mismatches: 0 }]);
    expect(
      await sql(
        `select line_no, product_code from reconciliation_line where report_id = ? order by line_no`,
        [report.id],
      ),
    ).toEqual([
      { line_no: 1, product_code: 'MATCH-B' },
      { line_no: 2, product_code: 'MATCH-A' },
    ]);
    expect(await sql(`select count(*)::int as n from stock_alert where product_code like 'MATCH-%'`)).toEqual(
      [{ n: 0 }],
    );
  });

  it('marks a count beyond the tolerance as a mismatch and stores a RECONCILIATION_MISMATCH alert for it', async () => {
    await sql(`update inventory_item set reserved = 5 where product_code = 'OFF-A'`);
    const report = await reconcile([
      { productCode: 'OFF-A', physicalCount: 90 },
      { productCode: 'OFF-B', physicalCount: 120 },
      { productCode: 'MATCH-A', physicalCount: 101 },
    ]);
    expect(report.mismatches).toBe(2);
    expect(report.lines.map((l) => [l.productCode, l.differencePercent, l.mismatch])).toEqual([
      ['OFF-A', -10, true],
      ['OFF-B', 20, true],
      ['MATCH-A', 1, false],
    ]);
    const alerts = await sql(
      `select kind, product_code, available, message, product_id is not null as linked
       from stock_alert where product_code like 'OFF-%' order by product_code`,
    );
    expect(alerts).toEqual([
      {
        kind: 'RECONCILIATION_MISMATCH',
        product_code: 'OFF-A',
        available: 95,
        message: 'Physical count of "OFF-A" is 90, the system has 100 on hand (-10%, tolerance 3%).',
        linked: true,
      },
      {
        kind: 'RECONCILIATION_MISMATCH',
        product_code: 'OFF-B',
        available: 100,
        message: 'Physical count of "OFF-B" is 120, the system has 100 on hand (+20%, tolerance 3%).',
        linked: true,
      },
    ]);
    // Reconciliation reports; it never changes stock (adjustStock does, with a reason).
    expect(
      await sql(
        `select on_hand from inventory_item where product_code in ('OFF-A', 'OFF-B') order by product_code`,
      ),
    ).toEqual([{ on_hand: 100 }, { on_hand: 100 }]);
    expect(await sql(`select count(*)::int as n from stock_movement`)).toEqual([{ n: 0 }]);
    await sql(`update inventory_item set reserved = 0 where product_code = 'OFF-A'`);
  });

  it('does not count a difference of exactly the tolerance (3% by default) as a mismatch', async () => {
    const report = await reconcile([
      { productCode: 'EDGE-UP', physicalCount: 103 },
      { productCode: 'EDGE-DOWN', physicalCount: 97 },
      { productCode: 'EDGE-OVER', physicalCount: 104 },
    ]);
    expect(report.tolerancePercent).toBe(3);
    expect(report.lines.map((l) => [l.productCode, l.differencePercent, l.mismatch])).toEqual([
      ['EDGE-UP', 3, false],
      ['EDGE-DOWN', -3, false],
      ['EDGE-OVER', 4, true],
    ]);
    expect(report.mismatches).toBe(1);
  });

  it('follows a custom tolerance, 0 making any difference a mismatch', async () => {
    const loose = await reconcile(
      [
        { productCode: 'TOL-A', physicalCount: 110 },
        { productCode: 'TOL-B', physicalCount: 89 },
      ],
      10,
    );
    expect(loose.tolerancePercent).toBe(10);
    expect(loose.lines.map((l) => l.mismatch)).toEqual([false, true]);
    const strict = await reconcile([{ productCode: 'TOL-C', physicalCount: 99 }], 0);
    expect(strict.lines.map((l) => [l.differencePercent, l.mismatch])).toEqual([[-1, true]]);
    const fractional = await reconcile([{ productCode: 'TOL-C', physicalCount: 97 }], 2.5);
    expect(fractional.lines.map((l) => l.mismatch)).toEqual([true]);
  });

  it('defines the difference when the system has none: 0% for a count of 0, 100% for anything found', async () => {
    const report = await reconcile([
      { productCode: 'ZERO-BOTH', physicalCount: 0 },
      { productCode: 'ZERO-FOUND', physicalCount: 5 },
    ]);
    expect(report.lines.map((l) => [l.productCode, l.systemOnHand, l.differencePercent, l.mismatch])).toEqual(
      [
        ['ZERO-BOTH', 0, 0, false],
        ['ZERO-FOUND', 0, 100, true],
      ],
    );
  });

  it('refuses an unknown product with NOT_FOUND naming it, and stores nothing', async () => {
    const before = await stored();
    const res = await hub.gql(RECONCILE, {
      counts: [
        { productCode: 'MATCH-A', physicalCount: 1 },
        { productCode: 'NO-SUCH-SKU', physicalCount: 3 },
      ],
    });
    expect(errorCodes(res)).toEqual(['NOT_FOUND']);
    expect(res.errors![0].message).toContain('NO-SUCH-SKU');
    expect(await stored()).toEqual(before);
  });

  it.each([
    ['no counts', { counts: [] }, /counts must not be empty/],
    ['a negative count', { counts: [{ productCode: 'MATCH-A', physicalCount: -1 }] }, /physicalCount/],
    [
      'a product counted twice',
      {
        counts: [
          { productCode: 'MATCH-A', physicalCount: 1 },
          { productCode: 'MATCH-A', physicalCount: 2 },
        ],
      },
      /"MATCH-A" is counted twice/,
    ],
    [
      'a negative tolerance',
      { counts: [{ productCode: 'MATCH-A', physicalCount: 1 }], tolerancePercent: -1 },
      /between 0 and 100/,
    ],
    [
      'a tolerance above 100',
      { counts: [{ productCode: 'MATCH-A', physicalCount: 1 }], tolerancePercent: 100.5 },
      /between 0 and 100/,
    ],
  ])('refuses %s with BAD_USER_INPUT, storing nothing', async (_what, variables, message) => {
    const before = await stored();
    const res = await hub.gql(RECONCILE, variables);
    expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.errors![0].message).toMatch(message);
    expect(await stored()).toEqual(before);
  });

  it('is for OPS and ADMIN keys: an ANALYST key is FORBIDDEN', async () => {
    const counts = [{ productCode: 'MATCH-A', physicalCount: 100 }];
    expect(errorCodes(await hub.gql(RECONCILE, { counts }, await hub.apiKey('ANALYST')))).toEqual([
      'FORBIDDEN',
    ]);
    const ops = await hub.gql<{ reconcileInventory: Report }>(RECONCILE, { counts }, await hub.apiKey('OPS'));
    expect(ops.errors).toBeUndefined();
    expect(ops.data!.reconcileInventory.mismatches).toBe(0);
  });

  describe('the command line: npm run reconcile -- --file counts.csv', () => {
    const run = async (args: string[]) => {
      try {
        const { stdout, stderr } = await promisify(execFile)(
          process.execPath,
          ['dist/server/reconcile.js', ...args],
          {
            cwd: root,
            env: { ...process.env, DATABASE_URL: hub.database.url, LOG_LEVEL: 'warn' },
            timeout: 30_000,
          },
        );
        return { code: 0, stdout, stderr };
      } catch (err) {
        const e = err as { code: number; stdout: string; stderr: string };
        return { code: e.code, stdout: e.stdout, stderr: e.stderr };
      }
    };

    it('reconciles the file, prints the summary with each mismatch, and exits 0', async () => {
      const file = join(dir, 'counts.csv');
      await writeFile(file, 'product_code,physical_count\nCLI-A,100\n\nCLI-B,80\n');
      const { code, stdout } = await run(['--file', file]);
      expect(code).toBe(0);
      const lines = stdout.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        /^Reconciled counts\.csv .*\(tolerance 3%\); report [0-9a-f-]{36}\. Stock was not changed\.$/,
      );
      expect(lines.slice(1)).toEqual([
        '  lines       2',
        '  mismatches  1',
        'Mismatches (a RECONCILIATION_MISMATCH alert was stored for each):',
        '  CLI-B  system 100, counted 80  (-20%)',
      ]);
      expect(await sql(`select count(*)::int as n from stock_alert where product_code = 'CLI-B'`)).toEqual([
        { n: 1 },
      ]);
    });

    it('takes camelCase headers in any order and a --tolerance', async () => {
      const file = join(dir, 'camel.csv');
      await writeFile(file, 'note,physicalCount,productCode\nshelf 4,80,CLI-A\n');
      const { code, stdout } = await run(['--file', file, '--tolerance', '25']);
      expect(code).toBe(0);
      expect(stdout).toContain('(tolerance 25%)');
      expect(stdout).toContain('  mismatches  0');
    });

    it('exits 1 naming the problem, with nothing stored, for an unknown product or a bad row', async () => {
      const before = await stored();
      const unknown = join(dir, 'unknown.csv');
      await writeFile(unknown, 'product_code,physical_count\nCLI-A,100\nGHOST,1\n');
      const first = await run(['--file', unknown]);
      expect(first.code).toBe(1);
      expect(first.stderr).toContain('Product "GHOST" does not exist.');

      const bad = join(dir, 'bad.csv');
      await writeFile(bad, 'product_code,physical_count\nCLI-A,many\nCLI-B,-2\n');
      const second = await run(['--file', bad]);
      expect(second.code).toBe(1);
      expect(second.stderr).toContain('row 2: physical_count "many" of "CLI-A" is not a whole number');
      expect(second.stderr).toContain('row 3: physical_count "-2"');
      expect(await stored()).toEqual(before);
    });

    it('exits 2 with the usage when --file is missing', async () => {
      const { code, stderr } = await run([]);
      expect(code).toBe(2);
      expect(stderr).toContain('Usage: npm run reconcile -- --file <counts.csv>');
    });
  });

  describe('the daily schedule', () => {
    it('runs the configured counts file once per time slot, even with two hub processes at once', async () => {
      const file = join(dir, 'daily.csv');
      await writeFile(file, 'product_code,physical_count\nJOB-A,50\n');
      // The slot is now: no earlier report counts as this slot's run.
      const slot = new Date();
      const job = { orm: hub.orm, logger, hub: hub.hub.services, countsFile: file };
      const outcomes = await Promise.all([
        runDailyReconciliation(job, slot),
        runDailyReconciliation(job, slot),
      ]);
      expect(outcomes.filter((o) => o?.ran)).toHaveLength(1);
      const ran = outcomes.find((o) => o?.ran);
      expect(ran?.ran && ran.report.lines).toEqual([
        expect.objectContaining({
          productCode: 'JOB-A',
          systemOnHand: 100,
          physicalCount: 50,
          mismatch: true,
        }),
      ]);
      expect(await sql(`select count(*)::int as n from stock_alert where product_code = 'JOB-A'`)).toEqual([
        { n: 1 },
      ]);
      // A process whose timer fires later for the same slot finds it done.
      expect(await runDailyReconciliation(job, slot)).toEqual({
        ran: false,
        reason: 'already done for this time slot',
      });
    });

    it('skips a run while another process holds the reconciliation lock', async () => {
      const em = hub.orm.em.fork();
      await em.transactional(async (tx) => {
        await tx.execute(`select pg_advisory_xact_lock(hashtextextended('order-hub:reconcile', 0))`);
        const other = RequestContext.system(hub.orm.em.fork(), logger, hub.hub.services);
        expect(
          await runScheduledReconciliation(other, {
            counts: [{ productCode: 'JOB-A', physicalCount: 100 }],
            slot: new Date(),
          }),
        ).toEqual({ ran: false, reason: 'another process is running it' });
      });
    });

    it('fires at HH:MM in the zone for that slot, and stopping waits for the run in flight', async () => {
      const file = join(dir, 'scheduled.csv');
      await writeFile(file, 'product_code,physical_count\nJOB-A,100\n');
      const lines: Record<string, unknown>[] = [];
      const captured = createLogger('info', { write: (line: string) => void lines.push(JSON.parse(line)) });
      const outcomes = () => lines.filter((l) => String(l.msg).startsWith('daily reconciliation of'));
      // Only the clock and the timers croner uses are fake; the database and the file are real. The
      // slot lies after every report the database holds, so it is not found done already.
      vi.useFakeTimers({
        now: new Date('2030-01-01T17:59:58Z'),
        toFake: ['Date', 'setTimeout', 'clearTimeout'],
      });
      const stopping = new AbortController();
      try {
        const job = startDailyReconciliation(
          {
            orm: hub.orm,
            logger: captured,
            hub: hub.hub.services,
            at: '02:00',
            timeZone: 'Asia/Shanghai',
            countsFile: file,
          },
          stopping.signal,
        );
        expect(lines).toEqual([expect.objectContaining({ next: '2030-01-01T18:00:00.000Z' })]);
        await vi.advanceTimersByTimeAsync(2_000);
        // The run has started and reads the file and the database; stopping waits for it to end.
        stopping.abort();
        await job.stopped();
        expect(outcomes()).toEqual([
          expect.objectContaining({ slot: '2030-01-01T18:00:00.000Z', lines: 1, mismatches: 0 }),
        ]);
        // Stopped: no timer is left for the next day's run.
        await vi.advanceTimersByTimeAsync(24 * 3600_000);
        expect(vi.getTimerCount()).toBe(0);
      } finally {
        stopping.abort();
        vi.useRealTimers();
      }
    });
  });
});

describe('reading counts from CSV', () => {
  it('finds the columns by header name and skips blank rows', async () => {
    expect(
      await readStockCountsCsv('\uFEFFProduct_Code , Physical_Count\r\n A-1 , 4 \r\n\r\nB-2,0\r\n'),
    ).toEqual([
      { productCode: 'A-1', physicalCount: 4 },
      { productCode: 'B-2', physicalCount: 0 },
    ]);
  });

  it('refuses a file without the two columns, naming what it found', async () => {
    await expect(readStockCountsCsv('sku,qty\nA,1\n')).rejects.toThrow(
      /needs a header row with the columns product_code and physical_count \(found: sku, qty\)/,
    );
    await expect(readStockCountsCsv('')).rejects.toThrow(/empty/);
  });

  it('names each bad row as a spreadsheet numbers it', async () => {
    await expect(readStockCountsCsv('product_code,physical_count\nA,1.5\n,3\nB,2\n')).rejects.toThrow(
      'The counts file has bad rows:\n  row 2: physical_count "1.5" of "A" is not a whole number of 0 or more.\n  row 3: product_code is empty.',
    );
  });
});

describe('the command line’s options', () => {
  it('reads --file and --tolerance, 3% by default', () => {
    expect(parseReconcileArgs(['--file', 'c.csv'])).toEqual({ file: 'c.csv', tolerancePercent: 3 });
    expect(parseReconcileArgs(['--file', 'c.csv', '--tolerance', '0.5'])).toEqual({
      file: 'c.csv',
      tolerancePercent: 0.5,
    });
    expect(() => parseReconcileArgs([])).toThrow(UsageError);
    expect(() => parseReconcileArgs(['--file', 'c.csv', '--tolerance', 'lots'])).toThrow(/--tolerance/);
    expect(() => parseReconcileArgs(['--file', 'c.csv', '--nope'])).toThrow(UsageError);
  });
});

describe('the next daily run time', () => {
  const nextRun = (now: string, at: string, timeZone: string) =>
    dailySchedule(at, timeZone).nextRun(new Date(now));

  it('is today’s HH:MM in the zone when still ahead, otherwise tomorrow’s', () => {
    // 09:00 in Shanghai (UTC+8): 02:00 has passed today, so 02:00 tomorrow.
    expect(nextRun('2026-11-27T01:00:00Z', '02:00', 'Asia/Shanghai')).toEqual(
      new Date('2026-11-27T18:00:00Z'),
    );
    // 01:59 in Shanghai: 02:00 is a minute away.
    expect(nextRun('2026-11-26T17:59:00Z', '02:00', 'Asia/Shanghai')).toEqual(
      new Date('2026-11-26T18:00:00Z'),
    );
    // Exactly at the time: the next run is the next day's.
    expect(nextRun('2026-11-26T18:00:00Z', '02:00', 'Asia/Shanghai')).toEqual(
      new Date('2026-11-27T18:00:00Z'),
    );
    // 04:00 on 1 January in Shanghai: 03:30 has passed, so 03:30 on 2 January.
    expect(nextRun('2026-12-31T20:00:00Z', '03:30', 'Asia/Shanghai')).toEqual(
      new Date('2027-01-01T19:30:00Z'),
    );
    // 22:00 on 31 December in Shanghai: the next 03:30 is in the new year.
    expect(nextRun('2026-12-31T14:00:00Z', '03:30', 'Asia/Shanghai')).toEqual(
      new Date('2026-12-31T19:30:00Z'),
    );
    expect(nextRun('2026-12-31T10:00:00Z', '23:45', 'UTC')).toEqual(new Date('2026-12-31T23:45:00Z'));
  });

  it('follows daylight saving time in zones that have it', () => {
    // Berlin: UTC+1 in winter, UTC+2 from 29 March 2026.
    expect(nextRun('2026-03-28T12:00:00Z', '06:00', 'Europe/Berlin')).toEqual(
      new Date('2026-03-29T04:00:00Z'),
    );
    expect(nextRun('2026-03-27T12:00:00Z', '06:00', 'Europe/Berlin')).toEqual(
      new Date('2026-03-28T05:00:00Z'),
    );
    // 02:30 does not exist on 29 March in Berlin (02:00 jumps to 03:00): the run is at 03:00.
    expect(nextRun('2026-03-28T12:00:00Z', '02:30', 'Europe/Berlin')).toEqual(
      new Date('2026-03-29T01:00:00Z'),
    );
    // 02:30 happens twice on 25 October (03:00 falls back to 02:00): the run is once, at the first.
    expect(nextRun('2026-10-24T12:00:00Z', '02:30', 'Europe/Berlin')).toEqual(
      new Date('2026-10-25T00:30:00Z'),
    );
    expect(nextRun('2026-10-25T00:30:00Z', '02:30', 'Europe/Berlin')).toEqual(
      new Date('2026-10-26T01:30:00Z'),
    );
  });
});

describe('the schedule’s configuration', () => {
  const base = { HUB_ADMIN_KEY: 'x'.repeat(16) };
  it('is off by default, in Asia/Shanghai time when on', () => {
    expect(loadConfig(base)).toMatchObject({
      reconcileAt: undefined,
      reconcileTimeZone: 'Asia/Shanghai',
      reconcileCountsFile: undefined,
    });
    expect(
      loadConfig({
        ...base,
        RECONCILE_AT: '02:30',
        RECONCILE_COUNTS_FILE: '/srv/counts.csv',
        RECONCILE_TIME_ZONE: 'UTC',
      }),
    ).toMatchObject({
      reconcileAt: '02:30',
      reconcileTimeZone: 'UTC',
      reconcileCountsFile: '/srv/counts.csv',
    });
  });

  it('refuses a bad time, an unknown zone, or a time without a counts file', () => {
    expect(() => loadConfig({ ...base, RECONCILE_AT: '24:00', RECONCILE_COUNTS_FILE: 'c.csv' })).toThrow(
      /RECONCILE_AT/,
    );
    expect(() => loadConfig({ ...base, RECONCILE_TIME_ZONE: 'Mars/Olympus' })).toThrow(/RECONCILE_TIME_ZONE/);
    expect(() => loadConfig({ ...base, RECONCILE_AT: '02:00' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, RECONCILE_AT: '02:00' })).toThrow(/RECONCILE_COUNTS_FILE/);
  });
});
