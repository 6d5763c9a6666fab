import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Platform } from '../common/enums.js';
import { seedOrders, type SeedSummary } from '../server/seed.js';
import { parseSeedArgs } from '../server/seed-main.js';
import { startTestHub, type TestHub } from './support/hub.js';

const ORDERS = 2_000;

describe('npm run seed', () => {
  let hub: TestHub;
  let db: pg.Client;
  let summary: SeedSummary;
  const progress: number[] = [];

  beforeAll(async () => {
    hub = await startTestHub('seed');
    db = new pg.Client({ connectionString: hub.database.url });
    await db.connect();
    // An endpoint that hears of every order event: the seeded history must not be sent to it.
    await db.query(
      `insert into webhook_endpoint (url, events, secret_sealed)
       values ('https://merchant.example/hooks', '{order.created,order.status_changed,shipment.updated}', 'sealed')`,
    );
    summary = await seedOrders(hub.database.url, {
      orders: ORDERS,
      seed: 7,
      onProgress: (done) => progress.push(done),
    });
  });

  afterAll(async () => {
    await db?.end();
    await hub?.close();
  });

  const one = async (sql: string) => (await db.query(sql)).rows[0] as Record<string, unknown>;
  const count = async (sql: string) => Number((await one(sql)).n);

  it('reports the rows it made', async () => {
    expect(progress).toEqual([ORDERS]);
    expect(summary).toEqual({
      orders: await count('select count(*) as n from "order"'),
      lines: await count('select count(*) as n from order_line'),
      events: await count('select count(*) as n from order_event'),
      shipments: await count('select count(*) as n from shipment'),
      channels: await count(`select count(*) as n from channel where code like 'seed-%'`),
      products: await count(
        'select count(*) as n from product join inventory_item i on i.product_id = product.id',
      ),
    });
    expect(await count('select count(*) as n from "order" where parent_id is null')).toBe(ORDERS);
    expect(await count('select count(*) as n from shipment_event')).toBeGreaterThan(summary.shipments);
  });

  it('gives orders to every channel of every platform', async () => {
    const { rows } = await db.query<{ platform: string; orders: string }>(
      `select c.platform, count(o.id) as orders from channel c left join "order" o on o.channel_id = c.id
       group by c.id, c.platform`,
    );
    expect(new Set(rows.map((r) => r.platform))).toEqual(new Set(Object.values(Platform)));
    for (const r of rows) expect(Number(r.orders)).toBeGreaterThan(0);
    expect(
      await count(
        `select count(*) as n from channel c
         where c.last_order_at is distinct from (select max(placed_at) from "order" o where o.channel_id = c.id)`,
      ),
    ).toBe(0);
  });

  it('adds the money up', async () => {
    expect(
      await count(
        `select count(*) as n from "order" o
         where o.total_amount <> (select sum(l.line_total) from order_line l where l.order_id = o.id)`,
      ),
    ).toBe(0);
    expect(
      await count(
        'select count(*) as n from order_line where line_total <> unit_price * quantity or unit_price <= 0',
      ),
    ).toBe(0);
  });

  it('keeps statuses and times consistent', async () => {
    const inconsistent = await count(
      `select count(*) as n from "order" where placed_at > now() or placed_at < now() - interval '1 year'
         or (status in ('PAID', 'PACKED', 'SHIPPED', 'DELIVERED', 'REFUNDED') and paid_at is null)
         or (status in ('SHIPPED', 'DELIVERED', 'REFUNDED') and shipped_at is null)
         or (status in ('DELIVERED', 'REFUNDED') and delivered_at is null)
         or (status in ('PENDING_PAYMENT', 'PAID', 'PACKED', 'CANCELLED') and shipped_at is not null)
         or (delivered_at is not null
             and not (placed_at <= paid_at and paid_at <= shipped_at and shipped_at <= delivered_at))`,
    );
    expect(inconsistent).toBe(0);
    const { rows } = await db.query<{ status: string; n: string }>(
      'select status, count(*) as n from "order" where parent_id is null group by status',
    );
    const share = Object.fromEntries(rows.map((r) => [r.status, Number(r.n) / ORDERS]));
    expect(share.DELIVERED).toBeGreaterThan(0.8);
    expect(share.CANCELLED).toBeGreaterThan(0.01);
    expect(share.REFUNDED).toBeGreaterThan(0);
    // Each order's timeline: numbered, in time order, ending at the order's status.
    expect(await count('select count(*) as n from order_event where seq is null')).toBe(0);
    expect(
      await count(
        `select count(*) as n from (
           select seq, at, lag(seq) over w as prev_seq, lag(at) over w as prev_at
           from order_event window w as (partition by order_id order by seq)) e
         where e.seq <= e.prev_seq or e.at < e.prev_at`,
      ),
    ).toBe(0);
    expect(
      await count(
        `select count(*) as n from "order" o
         where o.status <> (select e.to_status from order_event e where e.order_id = o.id and e.to_status is not null
                            order by e.seq desc limit 1)`,
      ),
    ).toBe(0);
    expect(
      await count(
        `select count(*) as n from "order" o where o.shipped_at is not null and o.parent_id is not null
           and not exists (select 1 from shipment s where s.order_id = o.id)`,
      ),
    ).toBe(0);
  });

  it('splits some orders into sub-orders pointing at their parent', async () => {
    const splits = await count(
      `select count(distinct parent_id) as n from "order" where parent_id is not null`,
    );
    expect(splits).toBeGreaterThan(ORDERS * 0.005);
    expect(
      await count(
        `select count(*) as n from "order" c join "order" p on p.id = c.parent_id
         where p.parent_id is not null or c.channel_id <> p.channel_id or c.status <> p.status
            or c.external_id not like p.external_id || '#%'
            or not exists (select 1 from order_event e where e.order_id = p.id and e.type = 'SPLIT')`,
      ),
    ).toBe(0);
    // The parcels carry the sale's lines between them: the money adds up to the parent's.
    expect(
      await count(
        `select count(*) as n from "order" p
         where exists (select 1 from "order" c where c.parent_id = p.id)
           and p.total_amount <> (select sum(c.total_amount) from "order" c where c.parent_id = p.id)`,
      ),
    ).toBe(0);
  });

  it('makes no webhook deliveries or notices for the history', async () => {
    // The events came numbered: the hub's numberer finds none of them to number (and hand to the webhooks).
    expect((await db.query('select * from hub_number_order_events()')).rowCount).toBe(0);
    expect(await count('select count(*) as n from outbound_delivery')).toBe(0);
    expect(await count('select count(*) as n from notice')).toBe(0);
  });

  it('adds nothing when run again', async () => {
    const before = await one(
      `select (select count(*) from "order") as orders, (select count(*) from order_event) as events,
              (select count(*) from shipment) as shipments, (select count(*) from product) as products`,
    );
    const again = await seedOrders(hub.database.url, { orders: ORDERS, seed: 7 });
    expect(again).toMatchObject({ orders: 0, lines: 0, events: 0, shipments: 0 });
    expect(
      await one(
        `select (select count(*) from "order") as orders, (select count(*) from order_event) as events,
                (select count(*) from shipment) as shipments, (select count(*) from product) as products`,
      ),
    ).toEqual(before);
  });

  it('is read by the hub', async () => {
    const codes = ['seed-taobao-1', 'seed-shopify-1'];
    const response = await hub.gql<{
      orders: { totalCount: number; edges: { node: { id: string; lines: { productCode: string }[] } }[] };
    }>(
      `query($codes: [String!]) {
        orders(first: 5, filter: { channelCodes: $codes }) { totalCount edges { node { id lines { productCode } } } }
      }`,
      { codes },
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.orders.edges).toHaveLength(5);
    expect(response.data!.orders.totalCount).toBeGreaterThan(5);
    for (const { node } of response.data!.orders.edges) expect(node.lines.length).toBeGreaterThan(0);
  });
});

describe('the seed command line', () => {
  it('needs a positive number of orders', () => {
    expect(parseSeedArgs(['--orders', '1000000'])).toEqual({ orders: 1_000_000, seed: 1 });
    expect(parseSeedArgs(['--orders', '5', '--seed', '42'])).toEqual({ orders: 5, seed: 42 });
    for (const argv of [[], ['--orders', '0'], ['--orders', '-3'], ['--orders', '1.5'], ['--orders', 'x']])
      expect(() => parseSeedArgs(argv)).toThrow(/--orders/);
  });
});
