import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestionMode, Platform } from '../common/enums.js';
import { sqlOf } from './support/after-sale.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { refundFixture } from './support/refunds.js';
import { sample } from './support/webhooks.js';

const REFUNDS_CSV = readFileSync(new URL('./fixtures/refunds.csv', import.meta.url), 'utf8');
const ORDERS_CSV = [
  'external_id,customer_name,address,product_code,quantity,unit_price,placed_at,status',
  'CSV-O-1,Ada,1 Road,MILK-1L,1,30.00,2026-11-20T09:00:00+08:00,PAID',
  'CSV-O-1,Ada,1 Road,TEA-250G,2,10.00,2026-11-20T09:00:00+08:00,PAID',
  'CSV-O-2,Bob,2 Road,MILK-1L,1,50.00,2026-11-20T09:00:00+08:00,PAID',
].join('\n');

describe('returns: the refund CSV backfill', () => {
  let hub: TestHub;
  let sql: ReturnType<typeof sqlOf>;

  const importRefunds = async () =>
    (
      await hub.gql<{ importRefundsCsv: any }>(
        `mutation($csv: String!) { importRefundsCsv(channelCode: "tb", csv: $csv) {
           rows created duplicates failed errors { row message } } }`,
        { csv: REFUNDS_CSV },
      )
    ).data!.importRefundsCsv;

  beforeAll(async () => {
    hub = await startTestHub('returns-import');
    sql = sqlOf(hub);
    await seedChannel(hub.orm, 'tb', Platform.TAOBAO);
    await seedProduct(hub.orm, 'MILK-1L', 10);
    await seedProduct(hub.orm, 'TEA-250G', 10);
    const orders = await hub.gql<{ importOrdersCsv: any }>(
      `mutation($csv: String!) { importOrdersCsv(channelCode: "tb", csv: $csv) { created failed } }`,
      { csv: ORDERS_CSV },
    );
    expect(orders.data!.importOrdersCsv).toEqual({ created: 2, failed: 0 });
  });
  afterAll(() => hub?.close());

  it('stores each refund of the file with its effects, reports the bad one by row, and creates nothing the second time', async () => {
    expect(await importRefunds()).toEqual({
      rows: 4,
      created: 2,
      duplicates: 0,
      failed: 1,
      errors: [{ row: 5, message: expect.stringContaining('quantity') }],
    });
    const stock = () => sql(`select product_code, on_hand from inventory_item order by product_code`);
    // Sold 2 milk and 2 tea; back: one milk and two tea received, one milk refunded before shipping.
    expect(await stock()).toEqual([
      { product_code: 'MILK-1L', on_hand: 10 },
      { product_code: 'TEA-250G', on_hand: 10 },
    ]);
    const { data } = await hub.gql<{ returns: any }>(
      `{ returns(channelCode: "tb") { edges { node { refundId status kind reasonClass returnCarrier
           order { externalId status refundedAmount { amount } } lines { quantity restocked } } } } }`,
    );
    expect(data!.returns.edges.map((e: any) => e.node)).toEqual([
      {
        refundId: 'CSV-R-2',
        status: 'REFUNDED',
        kind: 'REFUND_ONLY',
        reasonClass: 'BUYER_REMORSE',
        returnCarrier: null,
        order: { externalId: 'CSV-O-2', status: 'REFUNDED', refundedAmount: { amount: '50.00' } },
        lines: [{ quantity: 1, restocked: 1 }],
      },
      {
        refundId: 'CSV-R-1',
        status: 'RETURN_RECEIVED',
        kind: 'RETURN_AND_REFUND',
        reasonClass: 'QUALITY',
        returnCarrier: '顺丰速运',
        order: { externalId: 'CSV-O-1', status: 'PAID', refundedAmount: { amount: '0.00' } },
        lines: [
          { quantity: 1, restocked: 1 },
          { quantity: 2, restocked: 2 },
        ],
      },
    ]);

    const movements = await sql(`select count(*)::int as n from stock_movement where reason <> 'sale'`);
    expect(await importRefunds()).toMatchObject({ created: 0, duplicates: 2, failed: 1 });
    expect(await sql(`select count(*)::int as n from stock_movement where reason <> 'sale'`)).toEqual(
      movements,
    );
    expect(await stock()).toEqual([
      { product_code: 'MILK-1L', on_hand: 10 },
      { product_code: 'TEA-250G', on_hand: 10 },
    ]);
  });
});

describe('returns: the refund CSV backfill from the command line (npm run import:refunds)', () => {
  const root = new URL('..', import.meta.url).pathname;
  let hub: TestHub;
  let dir: string;

  /** The compiled tool as `npm run import:refunds` runs it, on the hub's database; killed if it outlives the timeout. */
  const run = async (args: string[]) => {
    try {
      const { stdout, stderr } = await promisify(execFile)(
        process.execPath,
        ['dist/server/import-refunds.js', ...args],
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

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'refund-import-cli-'));
    hub = await startTestHub('returns-import-cli');
    await seedChannel(hub.orm, 'tb-cli', Platform.TAOBAO);
    await seedProduct(hub.orm, 'MILK-1L', 10);
    await seedProduct(hub.orm, 'TEA-250G', 10);
    const orders = await hub.gql<{ importOrdersCsv: any }>(
      `mutation($csv: String!) { importOrdersCsv(channelCode: "tb-cli", csv: $csv) { created failed } }`,
      { csv: ORDERS_CSV },
    );
    expect(orders.data!.importOrdersCsv).toEqual({ created: 2, failed: 0 });
  });
  afterAll(async () => {
    await hub?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores the file’s refunds, prints the summary with each failed row, exits 1 for a failure, and creates nothing twice', async () => {
    const file = join(dir, 'refunds.csv');
    await writeFile(file, REFUNDS_CSV);
    const first = await run(['--channel', 'tb-cli', '--file', file]);
    expect(first.code).toBe(1);
    const lines = first.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('Imported refunds.csv into channel "tb-cli".');
    expect(lines.slice(1, 5)).toEqual([
      '  rows        4',
      '  created     2',
      '  duplicates  0  (already known: not created twice)',
      '  failed      1',
    ]);
    expect(lines.slice(-2)).toEqual([
      'Failures (row numbers as a spreadsheet shows them: the header is row 1):',
      expect.stringMatching(/^ {2}row 5: .*quantity/),
    ]);
    expect(
      await sqlOf(hub)(
        `select r.refund_id, r.status, o.external_id from order_return r join "order" o on o.id = r.order_id
         order by r.refund_id`,
      ),
    ).toEqual([
      { refund_id: 'CSV-R-1', status: 'RETURN_RECEIVED', external_id: 'CSV-O-1' },
      { refund_id: 'CSV-R-2', status: 'REFUNDED', external_id: 'CSV-O-2' },
    ]);

    const again = await run(['--channel', 'tb-cli', '--file', file]);
    expect(again.stdout).toContain('  created     0');
    expect(again.stdout).toContain('  duplicates  2');
    expect(await sqlOf(hub)(`select count(*)::int as n from order_return`)).toEqual([{ n: 2 }]);

    await writeFile(file, REFUNDS_CSV.split('\n').slice(0, 3).join('\n'));
    expect(await run(['--channel', 'tb-cli', '--file', file])).toMatchObject({ code: 0 });
  });

  it('says what is wrong: an unknown channel or file exits 1, a wrong command line 2 with the usage', async () => {
    const file = join(dir, 'refunds.csv');
    await writeFile(file, REFUNDS_CSV);
    const unknown = await run(['--channel', 'nope', '--file', file]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('nope');
    const missing = await run(['--channel', 'tb-cli', '--file', join(dir, 'missing.csv')]);
    expect(missing).toMatchObject({ code: 1, stdout: expect.stringContaining('No such file') });
    const usage = await run(['--channel', 'tb-cli']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--file is required.');
    expect(usage.stderr).toContain('Usage: npm run import:refunds');
  });
});

describe('returns: pulled with the orders from a polled platform', () => {
  let hub: TestHub;
  let sql: ReturnType<typeof sqlOf>;
  let server: Server;
  const requests: string[] = [];

  // Kuaishou's refund list (open.seller.order.refund.pcursor.list), two pages: the case asked for, then refunded.
  const requested = refundFixture('channels/refunds/kuaishou.json');
  const refunded = { ...requested, status: 60, updateTime: requested.updateTime + 3_600_000 };
  const PAGES: Record<string, unknown> = {
    '/open/order/cursor/list?': { result: 1, data: { orderList: [sample('kuaishou')], pcursor: 'nomore' } },
    '/open/seller/order/refund/pcursor/list?': {
      result: 1,
      data: { refundOrderInfoList: [requested], pcursor: '1' },
    },
    '/open/seller/order/refund/pcursor/list?pcursor=1': {
      result: 1,
      data: { refundOrderInfoList: [refunded], pcursor: 'nomore' },
    },
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const key = `${url.pathname.replace(/^\/api/, '')}?${url.searchParams.toString()}`;
      requests.push(key);
      const body = PAGES[key];
      res.writeHead(body ? 200 : 404, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body ?? { error: 'no such page' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    hub = await startTestHub('returns-polling');
    sql = sqlOf(hub);
    await seedProduct(hub.orm, 'TEA-250G', 10);
    await seedChannel(hub.orm, 'ks', Platform.KUAISHOU, {
      ingestionModes: [IngestionMode.POLL],
      apiBaseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    });
  });
  afterAll(async () => {
    await hub?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('pulls the refund list after the orders, page by page, with a cursor of its own', async () => {
    const poll = () =>
      hub.gql<{ pollChannel: any }>(
        `mutation { pollChannel(code: "ks") { orders created refunds failed cursor health error } }`,
      );
    const first = await poll();
    expect(first.data!.pollChannel).toEqual({
      orders: 1,
      created: 1,
      refunds: 2,
      failed: 0,
      cursor: null,
      health: 'UP',
      error: null,
    });
    const { data } = await hub.gql<{ returns: any }>(
      `{ returns(channelCode: "ks") { edges { node { refundId status timeline { toStatus }
           order { status refundedAmount { amount } } } } } }`,
    );
    expect(data!.returns.edges.map((e: any) => e.node)).toEqual([
      {
        refundId: '2112345678901234',
        status: 'REFUNDED',
        timeline: [{ toStatus: 'REQUESTED' }, { toStatus: 'REFUNDED' }],
        order: { status: 'REFUNDED', refundedAmount: { amount: '129.00' } },
      },
    ]);
    // A refund only, not shipped: the unit comes back as a cancellation gives it.
    expect(await sql(`select on_hand from inventory_item`)).toEqual([{ on_hand: 10 }]);
    expect(await sql(`select refund_poll_cursor from channel where code = 'ks'`)).toEqual([
      { refund_poll_cursor: '1' },
    ]);

    requests.length = 0;
    expect((await poll()).data!.pollChannel).toMatchObject({ created: 0, refunds: 1, failed: 0 });
    expect(requests).toEqual([
      '/open/order/cursor/list?',
      '/open/seller/order/refund/pcursor/list?pcursor=1',
    ]);
    expect(await sql(`select count(*)::int as n from order_return_event`)).toEqual([{ n: 2 }]);
  });
});
