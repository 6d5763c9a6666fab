import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalFromLoggedCsv } from '../connectors/csv.js';
import { Platform, Role } from '../common/enums.js';
import { cliContext, formatReport, parseImportArgs, runImport, UsageError } from '../server/import.js';
import { createLogger } from '../server/logger.js';
import { RequestContext } from '../services/context.js';
import { importOrdersCsv, type ImportReport } from '../services/csv-import.js';
import { douyinExportLines, douyinHeader } from './support/csv-fixtures.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';

const shared = (name: string) => readFileSync(new URL(`fixtures/channels/${name}`, import.meta.url), 'utf8');
const CANONICAL = shared('canonical.csv');
const DOUYIN = shared('douyin-export.csv');

const IMPORT = `mutation ($channelCode: String!, $csv: String!, $historical: Boolean) {
  importOrdersCsv(channelCode: $channelCode, csv: $csv, historical: $historical) {
    channelCode rows created duplicates failed errors { row message }
  }
}`;

let hub: TestHub;
const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const sql = <T = any>(query: string, params: unknown[] = []) =>
  hub.orm.em.getConnection().execute<T[]>(query, params);

function adminCtx(): RequestContext {
  return new RequestContext({
    em: hub.orm.em.fork(),
    principal: { keyId: 'test', role: Role.ADMIN, channelCode: null, label: 'test' },
    requestId: 'csv-import-test',
    logger,
    hub: hub.hub.services,
  });
}

const importCsv = (
  channelCode: string,
  input: string | NodeJS.ReadableStream,
  options: { historical?: boolean; onProgress?(rows: number): void } = {},
) => importOrdersCsv(adminCtx(), channelCode, input, { historical: false, ...options });

async function ordersOf(channelCode: string) {
  const orders = await sql(
    `select o.id, o.external_id, o.status, o.customer_name, o.ship_name, o.ship_phone, o.ship_province, o.ship_city,
       o.ship_district, o.ship_line1, o.ship_country, o.total_amount, o.currency_code, o.placed_at, o.paid_at, o.raw
     from "order" o join channel c on c.id = o.channel_id where c.code = ? order by o.external_id`,
    [channelCode],
  );
  for (const order of orders) {
    order.lines = await sql(
      `select l.line_no, l.product_code, l.platform_sku_id, l.quantity, l.unit_price, l.line_total,
         p.product_code as product
       from order_line l left join product p on p.id = l.product_id where l.order_id = ? order by l.line_no`,
      [order.id],
    );
  }
  return orders;
}

const iso = (value: string | Date) => new Date(value).toISOString();

async function stock() {
  const rows = await sql<{ product_code: string; on_hand: number; reserved: number }>(
    'select product_code, on_hand, reserved from inventory_item order by product_code',
  );
  return Object.fromEntries(rows.map((r) => [r.product_code, { onHand: r.on_hand, reserved: r.reserved }]));
}

/** A Douyin export in the shared file's columns (shuffled, with extra ones), one object per row. */
const DOUYIN_ROW: Record<string, string> = {
  主订单编号: '\t6925000000000009001',
  子订单编号: '\t6925000000000009002',
  选购商品: '有机纯牛奶 1L',
  商品规格: '1L',
  商品数量: '1',
  商品ID: '\t1739000000001',
  商家编码: 'MILK-1L',
  商品单价: '129.90',
  订单应付金额: '129.90',
  运费: '0.00',
  收件人: '刘备',
  收件人手机号: '133****0000',
  省: '河北省',
  市: '保定市',
  区: '涿州市',
  街道: '双塔街道',
  详细地址: '桃园路 3 号',
  订单提交时间: '2026-01-05 20:15:02',
  支付完成时间: '2026-01-05 20:15:20',
  订单状态: '待发货',
};
const cell = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
function douyinLines(rows: Record<string, string>[]): string[] {
  const header = douyinHeader();
  return [
    header.join(','),
    ...rows.map((row) => header.map((h) => cell({ ...DOUYIN_ROW, ...row }[h] ?? '')).join(',')),
  ];
}
const order = (id: string) => `\t692500000000000${id}`;

beforeAll(async () => {
  hub = await startTestHub('csv-import');
  await seedChannel(hub.orm, 'douyin-live', Platform.DOUYIN);
  await seedChannel(hub.orm, 'douyin-history', Platform.DOUYIN);
  await seedChannel(hub.orm, 'douyin-bad', Platform.DOUYIN);
  await seedChannel(hub.orm, 'douyin-gql', Platform.DOUYIN);
  await seedChannel(hub.orm, 'douyin-cli', Platform.DOUYIN);
  await seedChannel(hub.orm, 'douyin-bulk', Platform.DOUYIN);
  await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
  await seedChannel(hub.orm, 'shop-2', Platform.STOREFRONT);
  await seedChannel(hub.orm, 'shop-stats', Platform.STOREFRONT);
  for (const code of ['MILK-1L', 'TEA-250G', 'SNACK-MIX']) await seedProduct(hub.orm, code, 1000);
  for (const channelCode of ['douyin-live', 'douyin-history', 'douyin-gql', 'douyin-cli', 'douyin-bulk']) {
    const res = await hub.gql(
      `mutation ($channelCode: String!) {
        mapChannelSku(channelCode: $channelCode, platformSkuId: "1739000000001", productCode: "MILK-1L")
      }`,
      { channelCode },
    );
    expect(res.errors).toBeUndefined();
  }
});

afterAll(() => hub.close());

describe('importing the hub canonical CSV', () => {
  it('stores each order with its lines, exact money and UTC times, rows of one order grouped', async () => {
    const before = await stock();
    const report = await importCsv('shop', CANONICAL);
    expect(report).toEqual({
      channelCode: 'shop',
      rows: 3,
      created: 2,
      duplicates: 0,
      failed: 0,
      errors: [],
    } satisfies ImportReport);

    const [grace, alan] = await ordersOf('shop');
    expect(grace).toMatchObject({
      external_id: 'SF-10001',
      status: 'PAID',
      customer_name: 'Grace Hopper',
      ship_name: 'Grace Hopper',
      ship_phone: '+1 555 0100',
      ship_province: null,
      ship_city: 'Arlington',
      ship_line1: '1 Navy Way',
      ship_country: 'US',
      total_amount: '259.80',
      currency_code: 'CNY',
      paid_at: null,
    });
    expect(iso(grace.placed_at)).toBe('2026-01-05T12:15:02.000Z');
    expect(grace.lines).toEqual([
      {
        line_no: 1,
        product_code: 'MILK-1L',
        platform_sku_id: null,
        quantity: 2,
        unit_price: '129.90',
        line_total: '259.80',
        product: 'MILK-1L',
      },
    ]);
    expect(alan).toMatchObject({
      external_id: 'SF-10002',
      status: 'PENDING_PAYMENT',
      customer_name: 'Alan Turing',
      ship_phone: null,
      ship_city: 'Wilmslow',
      ship_line1: 'Adlington Rd',
      ship_country: 'GB',
      total_amount: '144.90',
    });
    expect(iso(alan.placed_at)).toBe('2026-01-05T12:16:40.000Z');
    expect(alan.lines.map((l: any) => [l.product_code, l.quantity, l.unit_price, l.line_total])).toEqual([
      ['TEA-250G', 1, '99.00', '99.00'],
      ['SNACK-MIX', 3, '15.30', '45.90'],
    ]);
    // The source rows are kept, on the order and in the ingest log.
    expect(alan.raw).toMatchObject({
      source: 'csv',
      layout: 'canonical',
      historical: false,
      rows: [{ row: 3 }, { row: 4 }],
    });
    expect(alan.raw.rows[1].cells).toMatchObject({ external_id: 'SF-10002', product_code: 'SNACK-MIX' });
    const logs = await sql(
      `select outcome, external_id, source from ingest_log where channel_code = 'shop' order by id`,
    );
    expect(logs).toEqual([
      { outcome: 'CREATED', external_id: 'SF-10001', source: 'CSV' },
      { outcome: 'CREATED', external_id: 'SF-10002', source: 'CSV' },
    ]);

    // Not historical: the paid order took its stock, the unpaid one holds its own.
    const after = await stock();
    expect(after['MILK-1L'].onHand).toBe(before['MILK-1L'].onHand - 2);
    expect(after['TEA-250G'].reserved).toBe(before['TEA-250G'].reserved + 1);
    expect(after['SNACK-MIX'].reserved).toBe(before['SNACK-MIX'].reserved + 3);
  });

  it('reads a BOM, CRLF line ends, spreadsheet ="…" text cells, lower-case statuses and columns in any order', async () => {
    const csv =
      '\uFEFFstatus,placed_at,unit_price,quantity,product_code,address,customer_name,external_id,paid_at\r\n' +
      'paid,2026-01-05 20:15:02,10.5,2,TEA-250G,1 Road,Ada,="00123",2026-01-05T12:15:30+00:00\r\n';
    expect(await importCsv('shop-2', csv)).toMatchObject({ rows: 1, created: 1, failed: 0 });
    const [stored] = await ordersOf('shop-2');
    expect(stored).toMatchObject({
      external_id: '00123',
      status: 'PAID',
      total_amount: '21.00',
      ship_country: 'CN',
    });
    expect(iso(stored.placed_at)).toBe('2026-01-05T12:15:02.000Z');
    expect(iso(stored.paid_at)).toBe('2026-01-05T12:15:30.000Z');
  });

  it('refuses rows of one order that disagree on its status', async () => {
    const csv = [
      'external_id,customer_name,address,product_code,quantity,unit_price,placed_at,status',
      'MIX-1,Ada,1 Road,TEA-250G,1,1.00,2026-01-05T00:00:00Z,PAID',
      'MIX-1,Ada,1 Road,MILK-1L,1,1.00,2026-01-05T00:00:00Z,SHIPPED',
    ].join('\n');
    const report = await importCsv('shop-2', csv);
    expect(report).toMatchObject({ rows: 2, created: 0, failed: 1 });
    expect(report.errors).toEqual([{ row: 3, message: expect.stringContaining('"status"') }]);
  });
});

describe('importing a Douyin order export', () => {
  it('maps the export by its headers: tab-prefixed ids, Shanghai times, status words, the SKU map', async () => {
    const before = await stock();
    const report = await importCsv('douyin-live', DOUYIN);
    expect(report).toEqual({
      channelCode: 'douyin-live',
      rows: 3,
      created: 2,
      duplicates: 0,
      failed: 0,
      errors: [],
    });
    const [first, second] = await ordersOf('douyin-live');
    expect(first).toMatchObject({
      external_id: '6925000000000000101',
      status: 'PAID',
      customer_name: '刘备',
      ship_name: '刘备',
      ship_phone: '133****0000',
      ship_province: '河北省',
      ship_city: '保定市',
      ship_district: '涿州市',
      ship_line1: '双塔街道桃园路 3 号',
      ship_country: 'CN',
      total_amount: '129.90',
      currency_code: 'CNY',
    });
    expect(iso(first.placed_at)).toBe('2026-01-05T12:15:02.000Z');
    expect(iso(first.paid_at)).toBe('2026-01-05T12:15:20.000Z');
    expect(first.lines).toEqual([
      {
        line_no: 1,
        product_code: 'MILK-1L',
        platform_sku_id: '1739000000001',
        quantity: 1,
        unit_price: '129.90',
        line_total: '129.90',
        product: 'MILK-1L',
      },
    ]);
    // Two sub-orders, one order; the line without a 商家编码 goes through the SKU map.
    expect(second).toMatchObject({
      external_id: '6925000000000000103',
      status: 'PAID',
      customer_name: '关羽',
      ship_line1: '北城街道解州路 8 号',
      total_amount: '327.90',
    });
    expect(iso(second.placed_at)).toBe('2026-01-05T12:16:40.000Z');
    expect(iso(second.paid_at)).toBe('2026-01-05T12:17:02.000Z');
    expect(second.lines).toEqual([
      {
        line_no: 1,
        product_code: 'TEA-250G',
        platform_sku_id: '1739000000002',
        quantity: 2,
        unit_price: '99.00',
        line_total: '198.00',
        product: 'TEA-250G',
      },
      {
        line_no: 2,
        product_code: 'MILK-1L',
        platform_sku_id: '1739000000001',
        quantity: 1,
        unit_price: '129.90',
        line_total: '129.90',
        product: 'MILK-1L',
      },
    ]);
    const [event] = await sql(`select type, to_status, detail from order_event where order_id = ?`, [
      second.id,
    ]);
    expect(event).toMatchObject({ type: 'CREATED', to_status: 'PAID', detail: { platformStatus: '待发货' } });

    // Paid orders, not historical: their stock is committed.
    const after = await stock();
    expect(after['MILK-1L'].onHand).toBe(before['MILK-1L'].onHand - 2);
    expect(after['TEA-250G'].onHand).toBe(before['TEA-250G'].onHand - 2);
    const [{ count }] = await sql(
      `select count(*)::int as count from stock_movement m join "order" o on o.id = m.order_id
       join channel c on c.id = o.channel_id where c.code = 'douyin-live' and m.reason = 'sale'`,
    );
    expect(count).toBe(3);
  });

  it('logs each order so that it can be mapped again from the ingest log alone', async () => {
    const [log] = await sql<{ raw_body: string }>(
      `select raw_body from ingest_log where channel_code = 'douyin-live' and external_id = '6925000000000000103'`,
    );
    const again = canonicalFromLoggedCsv(log.raw_body);
    expect(again.historical).toBe(false);
    expect(again.order).toMatchObject({
      externalId: '6925000000000000103',
      status: 'PAID',
      platformStatus: '待发货',
      total: '327.90',
      lines: [
        { productCode: 'TEA-250G', platformSkuId: '1739000000002', quantity: 2, unitPrice: '99.00' },
        { productCode: null, platformSkuId: '1739000000001', quantity: 1, unitPrice: '129.90' },
      ],
    });
    expect(() => canonicalFromLoggedCsv('{"source":"webhook"}')).toThrow(/not a logged CSV order/);
  });

  it('creates nothing when the same file is imported again: every order is a duplicate', async () => {
    const before = await stock();
    const ordersBefore = await ordersOf('douyin-live');
    expect(await importCsv('douyin-live', DOUYIN)).toEqual({
      channelCode: 'douyin-live',
      rows: 3,
      created: 0,
      duplicates: 2,
      failed: 0,
      errors: [],
    });
    const ordersAfter = await ordersOf('douyin-live');
    expect(ordersAfter.map((o: any) => [o.id, o.lines.length])).toEqual(
      ordersBefore.map((o: any) => [o.id, o.lines.length]),
    );
    expect(await stock()).toEqual(before);
  });

  it('leaves stock untouched when historical', async () => {
    const before = await stock();
    const report = await importCsv('douyin-history', DOUYIN, { historical: true });
    expect(report).toMatchObject({ rows: 3, created: 2, failed: 0 });
    expect(await stock()).toEqual(before);
    const [{ movements, reservations }] = await sql(
      `select (select count(*)::int from stock_movement m where m.order_id = any(array_agg(o.id))) as movements,
              (select count(*)::int from reservation r where r.order_id = any(array_agg(o.id))) as reservations
       from "order" o join channel c on c.id = o.channel_id where c.code = 'douyin-history'`,
    );
    expect({ movements, reservations }).toEqual({ movements: 0, reservations: 0 });
    const statuses = (await ordersOf('douyin-history')).map((o: any) => o.status);
    expect(statuses).toEqual(['PAID', 'PAID']);
  });

  it('reports each bad row by its spreadsheet row number and stores the good orders', async () => {
    const lines = douyinLines([
      { 主订单编号: order('1001'), 商家编码: 'TEA-250G', 商品ID: '\t1739000000002' }, // row 2: order A …
      { 主订单编号: order('1001') }, // row 3: … its second line
      { 主订单编号: order('1002'), 商品数量: '' }, // row 4: no quantity
      { 主订单编号: order('1003'), 商品单价: '12.9x' }, // row 5: bad price
      { 主订单编号: order('1004'), 订单提交时间: '2026-13-05 20:00:00' }, // row 6: bad time
      { 主订单编号: order('1005'), 订单状态: '待评价' }, // row 7: unknown status word
      { 主订单编号: order('1006') }, // row 8: order F, fine …
      { 主订单编号: order('1006'), 商品数量: '0' }, // row 9: … but its second line is not
      { 主订单编号: order('1007'), 选购商品: '有机纯牛奶\n(两行的名字)' }, // row 10: G, a cell over two lines
      { 主订单编号: order('1001') }, // row 11: order A again, apart from its rows
      { 主订单编号: '\t' }, // row 12: no order number
      { 主订单编号: order('1008'), 商家编码: '', 商品ID: '' }, // row 13: no product at all
    ]);
    lines.push('', douyinLines([{ 主订单编号: order('1009'), 订单状态: '已完成' }])[1]); // row 14 blank, row 15: H
    const report = await importCsv('douyin-bad', lines.join('\n') + '\n');

    expect(report).toMatchObject({
      channelCode: 'douyin-bad',
      rows: 13,
      created: 3,
      duplicates: 0,
      failed: 8,
    });
    expect(report.errors.map((e) => e.row)).toEqual([4, 5, 6, 7, 9, 11, 12, 13]);
    const message = (row: number) => report.errors.find((e) => e.row === row)!.message;
    expect(message(4)).toBe('Column "商品数量" is empty.');
    expect(message(5)).toMatch(/^Column "商品单价" must be a decimal amount .*"12\.9x"/);
    expect(message(6)).toMatch(/^Column "订单提交时间" .*"2026-13-05 20:00:00"/);
    expect(message(7)).toMatch(/^Column "订单状态" has an unknown status "待评价"/);
    expect(message(9)).toMatch(/^Column "商品数量" must be a positive integer/);
    expect(message(11)).toMatch(/rows of order "6925000000000001001" are not together.*row 2/);
    expect(message(12)).toBe('Column "主订单编号" is empty: the row has no order.');
    expect(message(13)).toMatch(/^Column "商家编码" is empty, and so is "商品ID"/);

    const stored = await ordersOf('douyin-bad');
    expect(stored.map((o: any) => [o.external_id, o.lines.length, o.status])).toEqual([
      ['6925000000000001001', 2, 'PAID'],
      ['6925000000000001007', 1, 'PAID'],
      ['6925000000000001009', 1, 'DELIVERED'],
    ]);
    // Nothing received is lost: the failed orders' rows are in the ingest log, marked FAILED with the reason.
    const failedLogs = await sql(
      `select error from ingest_log where channel_code = 'douyin-bad' and outcome = 'FAILED' order by id`,
    );
    expect(failedLogs).toHaveLength(8);
    expect(failedLogs.map((l: any) => l.error)).toContain('Column "商品数量" is empty.');
    const [split] = await sql<{ raw_body: string }>(
      `select raw_body from ingest_log where channel_code = 'douyin-bad' and raw_body like '%"row":11%'`,
    );
    expect(() => canonicalFromLoggedCsv(split.raw_body)).toThrow(/are not together/);
  });

  it('stops at a row it cannot read, keeping the orders before it', async () => {
    const lines = douyinLines([
      { 主订单编号: order('2001') }, // row 2
      { 主订单编号: order('2002') }, // row 3: its order may go on past the broken row
    ]);
    lines.push(lines[2].replace('有机纯牛奶 1L', '"有机纯牛奶 1L')); // row 4: a quote never closed
    const report = await importCsv('douyin-bad', lines.join('\n'));
    expect(report).toMatchObject({ created: 1, failed: 2 });
    expect(report.errors.map((e) => e.row)).toEqual([3, 4]);
    expect(report.errors[0].message).toMatch(/row 4 after it cannot be read/);
    expect(report.errors[1].message).toMatch(/cannot be read from this row on/);
  });

  it('combines sub-order statuses: part shipped is PAID, closed lines beside open ones do not close it', async () => {
    const csv = douyinLines([
      { 主订单编号: order('3001'), 订单状态: '已发货' },
      { 主订单编号: order('3001'), 订单状态: '待发货' },
      { 主订单编号: order('3002'), 订单状态: '已关闭' },
      { 主订单编号: order('3002'), 订单状态: '已完成' },
      { 主订单编号: order('3003'), 订单状态: '已关闭' },
    ]).join('\n');
    expect(await importCsv('douyin-bad', csv, { historical: true })).toMatchObject({ created: 3, failed: 0 });
    const byId = Object.fromEntries(
      (await ordersOf('douyin-bad')).map((o: any) => [o.external_id.slice(-4), o.status]),
    );
    expect(byId).toMatchObject({ '3001': 'PAID', '3002': 'DELIVERED', '3003': 'CANCELLED' });
  });

  it('refuses a header set it does not know, naming the missing columns, before reading any row', async () => {
    const at = douyinHeader().indexOf('商品单价');
    const noPrice = douyinLines([{}])
      .map((line) =>
        line
          .split(',')
          .filter((_, i) => i !== at)
          .join(','),
      )
      .join('\n');
    await expect(importCsv('douyin-bad', noPrice)).rejects.toThrow(
      /Closest is a Douyin order export, which lacks the column\(s\) "商品单价"/,
    );
    await expect(importCsv('shop', 'order_no,qty\nA,1\n')).rejects.toMatchObject({
      extensions: { code: 'BAD_USER_INPUT' },
      message: expect.stringMatching(/lacks the column\(s\) "external_id", "customer_name", "address"/),
    });
    await expect(importCsv('shop', DOUYIN)).rejects.toThrow(
      'This file is a Douyin order export, but channel "shop" is a STOREFRONT channel.',
    );
    await expect(importCsv('shop', '')).rejects.toThrow(/no header row/);
    const [{ count }] = await sql(
      `select count(*)::int as count from ingest_log where channel_code = 'douyin-bad'`,
    );
    const again = await importCsv('douyin-bad', douyinLines([]).join('\n'));
    expect(again).toMatchObject({ rows: 0, created: 0, failed: 0 });
    const [{ count: after }] = await sql(
      `select count(*)::int as count from ingest_log where channel_code = 'douyin-bad'`,
    );
    expect(after).toBe(count);
  });

  it('streams a larger export in batches, reporting progress as rows finish', async () => {
    const progress: number[] = [];
    const lines = douyinExportLines({
      orders: 1200,
      linesPerOrder: 3,
      productCodes: ['MILK-1L', 'TEA-250G', 'SNACK-MIX'],
      unmappedEvery: { n: 7, skuId: '1739000000001' },
    });
    const report = await importCsv('douyin-bulk', Readable.from(lines), {
      historical: true,
      onProgress: (rows) => progress.push(rows),
    });
    expect(report).toEqual({
      channelCode: 'douyin-bulk',
      rows: 3600,
      created: 1200,
      duplicates: 0,
      failed: 0,
      errors: [],
    });
    expect(progress.at(-1)).toBe(3600);
    expect(progress).toEqual([...progress].sort((a, b) => a - b));
    const [{ orders, lines: lineCount, unmapped }] = await sql(
      `select count(distinct o.id)::int as orders, count(l.id)::int as lines,
         count(l.id) filter (where l.product_id is null)::int as unmapped
       from "order" o join channel c on c.id = o.channel_id join order_line l on l.order_id = o.id
       where c.code = 'douyin-bulk'`,
    );
    expect({ orders, lineCount, unmapped }).toEqual({ orders: 1200, lineCount: 3600, unmapped: 0 });
  });
});

describe('the importOrdersCsv mutation', () => {
  it('imports for OPS and ADMIN keys, and for a CONNECTOR key on its own channel only', async () => {
    const res = await hub.gql<{ importOrdersCsv: ImportReport }>(IMPORT, {
      channelCode: 'douyin-gql',
      csv: DOUYIN,
      historical: true,
    });
    expect(res.errors).toBeUndefined();
    expect(res.data!.importOrdersCsv).toEqual({
      channelCode: 'douyin-gql',
      rows: 3,
      created: 2,
      duplicates: 0,
      failed: 0,
      errors: [],
    });

    const ops = await hub.apiKey(Role.OPS);
    const again = await hub.gql<{ importOrdersCsv: ImportReport }>(
      IMPORT,
      { channelCode: 'douyin-gql', csv: DOUYIN },
      ops,
    );
    expect(again.data!.importOrdersCsv).toMatchObject({ created: 0, duplicates: 2 });

    const connector = await hub.apiKey(Role.CONNECTOR, 'douyin-gql');
    const own = await hub.gql(IMPORT, { channelCode: 'douyin-gql', csv: DOUYIN }, connector);
    expect(own.errors).toBeUndefined();
    const other = await hub.gql(IMPORT, { channelCode: 'douyin-live', csv: DOUYIN }, connector);
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);

    const analyst = await hub.apiKey(Role.ANALYST);
    expect(errorCodes(await hub.gql(IMPORT, { channelCode: 'douyin-gql', csv: DOUYIN }, analyst))).toEqual([
      'FORBIDDEN',
    ]);
    expect(errorCodes(await hub.gql(IMPORT, { channelCode: 'douyin-gql', csv: DOUYIN }, null))).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('answers bad input with BAD_USER_INPUT, an unknown channel with NOT_FOUND, and row errors in the report', async () => {
    const unknownHeader = await hub.gql(IMPORT, { channelCode: 'douyin-gql', csv: 'a,b\n1,2\n' });
    expect(errorCodes(unknownHeader)).toEqual(['BAD_USER_INPUT']);
    expect(errorCodes(await hub.gql(IMPORT, { channelCode: 'nope', csv: DOUYIN }))).toEqual(['NOT_FOUND']);
    const bad = await hub.gql<{ importOrdersCsv: ImportReport }>(IMPORT, {
      channelCode: 'douyin-gql',
      csv: douyinLines([{ 主订单编号: order('4001'), 商品单价: '-1.00' }]).join('\n'),
    });
    expect(bad.data!.importOrdersCsv).toMatchObject({ rows: 1, created: 0, failed: 1 });
    expect(bad.data!.importOrdersCsv.errors).toEqual([
      { row: 2, message: expect.stringMatching(/^Column "商品单价" must not be negative/) },
    ]);
  });
});

describe('the import command', () => {
  let dir: string;
  beforeAll(async () => (dir = await mkdtemp(join(tmpdir(), 'csv-import-cli-'))));
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const cliRun = async (file: string, historical = false) => {
    const out: string[] = [];
    const code = await runImport(
      cliContext(RequestContext.system(hub.orm.em.fork(), logger, hub.hub.services, 'cli')),
      { channel: 'douyin-cli', file, historical },
      { out: (line) => out.push(line), progress: null },
    );
    return { code, out };
  };

  it('parses its options', () => {
    expect(parseImportArgs(['--channel', 'douyin-live', '--file', 'orders.csv', '--historical'])).toEqual({
      channel: 'douyin-live',
      file: 'orders.csv',
      historical: true,
    });
    expect(parseImportArgs(['--channel=c', '--file=f'])).toEqual({
      channel: 'c',
      file: 'f',
      historical: false,
    });
    expect(() => parseImportArgs(['--file', 'f'])).toThrow(UsageError);
    expect(() => parseImportArgs(['--channel', 'c'])).toThrow('--file is required.');
    expect(() => parseImportArgs(['--channel', 'c', '--file', 'f', '--bogus'])).toThrow(UsageError);
  });

  it('imports a file, prints the summary, and exits 0; a failed row prints its row number and exits 1', async () => {
    const good = join(dir, 'orders.csv');
    await writeFile(good, DOUYIN);
    const first = await cliRun(good);
    expect(first.code).toBe(0);
    expect(first.out[0]).toBe('Imported orders.csv into channel "douyin-cli".');
    expect(first.out.slice(1, 5).map((l) => l.trim().split(/\s+/).slice(0, 2))).toEqual([
      ['rows', '3'],
      ['created', '2'],
      ['duplicates', '0'],
      ['failed', '0'],
    ]);
    const second = await cliRun(good, true);
    expect(second.code).toBe(0);
    expect(second.out[0]).toMatch(/as history \(stock left untouched\)/);
    expect(second.out[3]).toMatch(/duplicates\s+2/);

    const bad = join(dir, 'bad.csv');
    await writeFile(
      bad,
      douyinLines([{ 主订单编号: order('5001') }, { 主订单编号: order('5002'), 商品数量: 'x' }]).join('\n'),
    );
    const third = await cliRun(bad);
    expect(third.code).toBe(1);
    expect(third.out).toContain('Failures (row numbers as a spreadsheet shows them: the header is row 1):');
    expect(third.out.at(-1)).toMatch(/^ {2}row 3: Column "商品数量" must be a positive integer/);

    const missing = await cliRun(join(dir, 'nope.csv'));
    expect(missing).toEqual({ code: 1, out: [`No such file: ${join(dir, 'nope.csv')}`] });
  });

  it('formats a summary with every failure', () => {
    const lines = formatReport(
      {
        channelCode: 'c',
        rows: 12345,
        created: 12000,
        duplicates: 340,
        failed: 2,
        errors: [
          { row: 7, message: 'A.' },
          { row: 90, message: 'B.' },
        ],
      },
      { channel: 'c', file: '/tmp/x.csv', historical: false },
      2,
    );
    expect(lines).toEqual([
      'Imported x.csv into channel "c".',
      '  rows        12345',
      '  created     12000',
      '  duplicates    340  (already known: not created twice)',
      '  failed          2',
      '  in 2.0 s, 6173 rows/s',
      'Failures (row numbers as a spreadsheet shows them: the header is row 1):',
      '  row 7: A.',
      '  row 90: B.',
    ]);
  });
});

describe('after an import', () => {
  it('leaves the planner statistics of the tables it filled up to date', async () => {
    await importCsv('shop-stats', CANONICAL.replaceAll('SF-1', 'ST-1'));
    // reltuples is what the planner believes a table holds: -1 until a table is first analyzed.
    const [row] = await sql(
      `select (select reltuples from pg_class where oid = '"order"'::regclass)::int as believed,
              (select count(*) from "order")::int as held,
              (select reltuples from pg_class where oid = 'order_line'::regclass)::int as lines_believed,
              (select count(*) from order_line)::int as lines_held`,
    );
    expect(row).toEqual({
      believed: row.held,
      held: row.held,
      lines_believed: row.lines_held,
      lines_held: row.lines_held,
    });
    expect(row.held).toBeGreaterThan(0);
  });
});
