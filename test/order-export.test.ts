import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { seedChannel, seedOrder } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';
import { waitFor } from './support/wait.js';

describe('exporting orders for analysts', () => {
  let hub: TestHub;
  let base: string;
  let analyst: string;

  beforeAll(async () => {
    hub = await startTestHub('order-export');
    base = hub.url.replace(/\/graphql$/, '');
    analyst = await hub.apiKey('ANALYST');
    const tmall = await seedChannel(hub.orm, 'tmall', Platform.TAOBAO);
    const shop = await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    const names = [
      '张伟',
      '=HYPERLINK("http://evil.example","click")',
      '+86 Li',
      '@SUM(A1)',
      'Plain, "quoted"',
    ];
    for (let i = 0; i < 5; i++) {
      await seedOrder(hub.orm, {
        channel: tmall,
        externalId: `T-${i}`,
        customerName: names[i],
        placedAt: new Date(Date.UTC(2026, 10, 11, i)),
        lines: [
          { productCode: 'TEA-1', quantity: i + 1, unitPrice: '12.10' },
          { productCode: 'CUP-1', quantity: 1, unitPrice: '0.30' },
        ],
      });
    }
    await seedOrder(hub.orm, {
      channel: shop,
      externalId: 'S-1',
      placedAt: new Date(Date.UTC(2026, 10, 12)),
    });
  });

  afterAll(() => hub.close());

  const get = (path: string, key: string | null = analyst) =>
    fetch(`${base}${path}`, { headers: key ? { authorization: `Bearer ${key}` } : {} });

  it('streams CSV with a BOM, one row per order, newest first, filtered as the orders query is', async () => {
    const res = await get('/exports/orders.csv?channelCodes=tmall&placedFrom=2026-11-11T01:00:00Z');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8');
    expect(res.headers.get('content-disposition')).toBe('attachment; filename="orders.csv"');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const rows = parse(bytes, { bom: true, columns: true }) as Record<string, string>[];
    expect(rows.map((r) => r.externalId)).toEqual(['T-4', 'T-3', 'T-2', 'T-1']);
    expect(rows[0]).toMatchObject({
      channelCode: 'tmall',
      platform: 'TAOBAO',
      totalAmount: '60.80',
      currencyCode: 'CNY',
      placedAt: '2026-11-11T04:00:00.000Z',
      shipProvince: '浙江省',
    });
    // No contact details leave in an analyst's file.
    expect(Object.keys(rows[0])).not.toContain('shipPhone');
  });

  it('keeps Chinese text intact and defuses cells a spreadsheet would run as formulas', async () => {
    const res = await get('/exports/orders.csv?channelCodes=tmall');
    const rows = parse(Buffer.from(await res.arrayBuffer()), { bom: true, columns: true }) as Record<
      string,
      string
    >[];
    const byId = new Map(rows.map((r) => [r.externalId, r.customerName]));
    expect(byId.get('T-0')).toBe('张伟');
    expect(byId.get('T-1')).toBe(`'=HYPERLINK("http://evil.example","click")`);
    expect(byId.get('T-2')).toBe(`'+86 Li`);
    expect(byId.get('T-3')).toBe(`'@SUM(A1)`);
    expect(byId.get('T-4')).toBe('Plain, "quoted"');
  });

  it('gives one row per line with lines=true, and the same rows as JSON lines', async () => {
    const csv = await get('/exports/orders.csv?channelCodes=tmall&lines=true');
    const rows = parse(Buffer.from(await csv.arrayBuffer()), { bom: true, columns: true }) as Record<
      string,
      string
    >[];
    expect(rows).toHaveLength(10);
    expect(rows.slice(0, 2)).toMatchObject([
      {
        externalId: 'T-4',
        lineNo: '1',
        productCode: 'TEA-1',
        quantity: '5',
        unitPrice: '12.10',
        lineTotal: '60.50',
      },
      {
        externalId: 'T-4',
        lineNo: '2',
        productCode: 'CUP-1',
        quantity: '1',
        unitPrice: '0.30',
        lineTotal: '0.30',
      },
    ]);

    const ndjson = await get('/exports/orders.ndjson?channelCodes=tmall&lines=true');
    expect(ndjson.headers.get('content-type')).toBe('application/x-ndjson; charset=utf-8');
    const lines = (await ndjson.text())
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines.map((l) => [l.externalId, l.lineNo])).toEqual(
      rows.map((r) => [r.externalId, Number(r.lineNo)]),
    );
    // JSON keeps the formula as it is: only spreadsheets need it defused.
    expect(lines.find((l) => l.externalId === 'T-1')?.customerName).toBe(
      '=HYPERLINK("http://evil.example","click")',
    );
    expect(lines[0]).toMatchObject({
      totalAmount: '60.80',
      quantity: 5,
      placedAt: '2026-11-11T04:00:00.000Z',
    });
  });

  it('refuses callers without a staff key, and bad parameters, with a stable code', async () => {
    const codeOf = async (res: Response) =>
      ((await res.json()) as { errors: { extensions: { code: string } }[] }).errors[0].extensions.code;
    const none = await get('/exports/orders.csv', null);
    expect([none.status, await codeOf(none)]).toEqual([401, 'UNAUTHENTICATED']);
    const storefront = await get('/exports/orders.csv', await hub.apiKey('STOREFRONT', 'shop'));
    expect([storefront.status, await codeOf(storefront)]).toEqual([403, 'FORBIDDEN']);
    for (const query of ['statuses=SOLD', 'placedFrom=yesterday', 'lines=yes', 'colour=red']) {
      const bad = await get(`/exports/orders.ndjson?${query}`);
      expect([bad.status, await codeOf(bad)], query).toEqual([400, 'BAD_USER_INPUT']);
    }
  });

  it('gives the connection back when the client goes away mid-file', async () => {
    // Enough rows that the file is still streaming when the client hangs up; copies of an order, written
    // without the order triggers (nothing here reads what they keep).
    await hub.orm.em.fork().transactional(async (em) => {
      const columns = (
        await em.execute<{ name: string }[]>(
          `select column_name as name from information_schema.columns
            where table_schema = current_schema() and table_name = 'order' order by ordinal_position`,
        )
      ).map((c) => `"${c.name}"`);
      const copied = columns.map((c) =>
        c === '"id"' ? 'gen_random_uuid()' : c === '"external_id"' ? `'BULK-' || g` : `o.${c}`,
      );
      await em.execute('set local session_replication_role = replica');
      await em.execute(
        `insert into "order" (${columns.join(', ')}) select ${copied.join(', ')}
           from "order" o, generate_series(1, 100000) g where o.external_id = 'S-1'`,
      );
    });
    const exporting = `select count(*)::int as n from pg_stat_activity
                        where application_name = 'order-hub-exports' and state <> 'idle'`;
    const sql = (q: string) => hub.orm.em.getConnection().execute<{ n: number }[]>(q);
    for (let i = 0; i < 3; i++) {
      const cut = new AbortController();
      const res = await fetch(`${base}/exports/orders.csv`, {
        headers: { authorization: `Bearer ${analyst}` },
        signal: cut.signal,
      });
      const reader = res.body!.getReader();
      expect((await reader.read()).done).toBe(false);
      cut.abort();
      await reader.cancel().catch(() => {});
    }
    // Three files cut off, two connections in the pool: each was given back, and none is left reading.
    await waitFor(async () => (await sql(exporting))[0].n === 0, 'no export still reading');
    const res = await get('/exports/orders.ndjson?channelCodes=tmall');
    expect((await res.text()).trimEnd().split('\n')).toHaveLength(5);
    await sql(`delete from "order" where external_id like 'BULK-%'`);
  });

  it('gives every connection back: more exports in a row than the export pool holds', async () => {
    for (let i = 0; i < 5; i++) {
      const res = await get('/exports/orders.ndjson');
      expect((await res.text()).trimEnd().split('\n')).toHaveLength(6);
    }
  });
});
