import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatus, Platform } from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import { foldSalesChanges, raiseVolumeAlerts } from '../services/reports.js';
import { seedChannel } from './support/fixtures.js';
import { insertSale, type Sale } from './support/sales.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

/**
 * Every expected number here was worked out by hand from the fixture written next to it.
 * Times are UTC; Asia/Shanghai is UTC+8 all year, Asia/Kolkata UTC+5:30.
 */

const SALES = `query ($from: DateTime!, $to: DateTime!, $groupBy: SalesGroupBy!, $tz: String) {
  salesReport(from: $from, to: $to, groupBy: $groupBy, timeZone: $tz) {
    key orders units revenue { amount currencyCode }
  }
}`;
const FULFILLMENT = `query ($from: DateTime!, $to: DateTime!, $channel: String) {
  fulfillmentReport(from: $from, to: $to, channelCode: $channel) { stage orders avgSeconds p50Seconds p90Seconds }
}`;
const ANOMALIES = `query ($from: DateTime!, $to: DateTime!, $tolerance: Float, $tz: String, $min: Float, $channel: String) {
  volumeAnomalies(from: $from, to: $to, tolerancePercent: $tolerance, timeZone: $tz, minBaseline: $min,
    channelCode: $channel) {
    channelCode bucketStart orders baseline deviationPercent
  }
}`;

const row = (key: string, orders: number, units: number, amount: string, currencyCode = 'CNY') => ({
  key,
  orders,
  units,
  revenue: { amount, currencyCode },
});

describe('reports for analysts', () => {
  let hub: TestHub;
  let analyst: string;
  let channels: Record<'tmall' | 'jd' | 'shopify', Channel>;

  beforeAll(async () => {
    // Every report here is one request; the analyst's usual 20 a second would interrupt the run, not test it.
    hub = await startTestHub('reports', { env: { RATE_LIMIT_ANALYST: 'requestsPerSecond=none' } });
    analyst = await hub.apiKey('ANALYST');
    channels = {
      tmall: await seedChannel(hub.orm, 'tmall', Platform.TAOBAO),
      jd: await seedChannel(hub.orm, 'jd', Platform.JD),
      shopify: await seedChannel(hub.orm, 'shopify', Platform.SHOPIFY),
    };
  });

  afterAll(() => hub.close());

  const query = async <T>(text: string, variables: Record<string, unknown>, key = analyst) => {
    const res = await hub.gql<T>(text, variables, key);
    expect(res.errors).toBeUndefined();
    return res.data!;
  };

  describe('salesReport', () => {
    // 2026-03-01T00:00 to 2026-03-04T00:00 in Asia/Shanghai.
    const range = { from: '2026-02-28T16:00:00Z', to: '2026-03-03T16:00:00Z' };

    beforeAll(async () => {
      const { tmall, jd, shopify } = channels;
      // 23:30 on 1 March in Shanghai, 15:30 in UTC.
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'T1',
        status: OrderStatus.DELIVERED,
        placedAt: '2026-03-01T15:30:00Z',
        lines: [
          ['A', 2, '30.00'],
          ['B', 1, '40.00'],
        ],
      });
      // 00:30 on 2 March in Shanghai, still 1 March in UTC.
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'T2',
        status: OrderStatus.PAID,
        placedAt: '2026-03-01T16:30:00Z',
        lines: [['A', 1, '50.00']],
      });
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'T3',
        status: OrderStatus.CANCELLED,
        placedAt: '2026-03-01T10:00:00Z',
        lines: [['A', 1, '20.00']],
      });
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'T5',
        status: OrderStatus.REFUNDED,
        placedAt: '2026-03-01T12:00:00Z',
        lines: [['C', 1, '30.00']],
      });
      // The last millisecond of 2 March in Shanghai.
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'T4',
        status: OrderStatus.PACKED,
        placedAt: '2026-03-02T15:59:59.999Z',
        lines: [['C', 1, '10.00']],
      });
      // A split sale: the sale counts once, its two parcels not at all.
      const j1 = await insertSale(hub.orm, {
        channel: jd,
        externalId: 'J1',
        status: OrderStatus.SHIPPED,
        placedAt: '2026-03-02T02:15:00Z',
        lines: [['B', 2, '40.00']],
      });
      for (const label of ['a', 'b']) {
        await insertSale(hub.orm, {
          channel: jd,
          externalId: `J1#${label}`,
          status: OrderStatus.SHIPPED,
          placedAt: '2026-03-02T02:15:00Z',
          lines: [['B', 1, '40.00']],
          parentId: j1,
        });
      }
      await insertSale(hub.orm, {
        channel: shopify,
        externalId: 'S1',
        status: OrderStatus.PAID,
        placedAt: '2026-03-02T03:00:00Z',
        currency: 'USD',
        lines: [['C', 1, '15.50']],
      });
      // Outside the range by a millisecond on each side.
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'T-before',
        status: OrderStatus.PAID,
        placedAt: '2026-02-28T15:59:59.999Z',
        lines: [['A', 1, '1.00']],
      });
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'T-after',
        status: OrderStatus.PAID,
        placedAt: '2026-03-03T16:00:00Z',
        lines: [['A', 1, '1.00']],
      });
    });

    const sales = async (groupBy: string, extra: Record<string, unknown> = {}) =>
      (await query<{ salesReport: unknown[] }>(SALES, { ...range, groupBy, ...extra })).salesReport;

    it('by day in Asia/Shanghai (the default): every day of the range, per currency, split and cancelled sales as sold', async () => {
      expect(await sales('DAY')).toEqual([
        row('2026-03-01', 1, 3, '100.00'),
        row('2026-03-01', 0, 0, '0.00', 'USD'),
        row('2026-03-02', 3, 4, '140.00'),
        row('2026-03-02', 1, 1, '15.50', 'USD'),
        row('2026-03-03', 0, 0, '0.00'),
        row('2026-03-03', 0, 0, '0.00', 'USD'),
      ]);
    });

    it('by day in UTC: the same sales fall on other days', async () => {
      expect(
        await sales('DAY', { tz: 'UTC', from: '2026-03-01T00:00:00Z', to: '2026-03-03T00:00:00Z' }),
      ).toEqual([
        row('2026-03-01', 2, 4, '150.00'),
        row('2026-03-01', 0, 0, '0.00', 'USD'),
        row('2026-03-02', 2, 3, '90.00'),
        row('2026-03-02', 1, 1, '15.50', 'USD'),
      ]);
    });

    it('by day in a zone half an hour off the hour (Asia/Kolkata), read from the orders themselves', async () => {
      // 1 March 00:00 to 3 March 00:00 in Kolkata. T1 21:00 and T2 22:00 on 1 March; J1, S1 and T4 on 2 March.
      expect(
        await sales('DAY', { tz: 'Asia/Kolkata', from: '2026-02-28T18:30:00Z', to: '2026-03-02T18:30:00Z' }),
      ).toEqual([
        row('2026-03-01', 2, 4, '150.00'),
        row('2026-03-01', 0, 0, '0.00', 'USD'),
        row('2026-03-02', 2, 3, '90.00'),
        row('2026-03-02', 1, 1, '15.50', 'USD'),
      ]);
    });

    it('by channel and by platform, highest revenue first', async () => {
      expect(await sales('CHANNEL')).toEqual([
        row('tmall', 3, 5, '160.00'),
        row('jd', 1, 2, '80.00'),
        row('shopify', 1, 1, '15.50', 'USD'),
      ]);
      expect(await sales('PLATFORM')).toEqual([
        row('TAOBAO', 3, 5, '160.00'),
        row('JD', 1, 2, '80.00'),
        row('SHOPIFY', 1, 1, '15.50', 'USD'),
      ]);
    });

    it('by status, in lifecycle order, cancelled and refunded sales included', async () => {
      expect(await sales('STATUS')).toEqual([
        row('PAID', 1, 1, '50.00'),
        row('PAID', 1, 1, '15.50', 'USD'),
        row('PACKED', 1, 1, '10.00'),
        row('SHIPPED', 1, 2, '80.00'),
        row('DELIVERED', 1, 3, '100.00'),
        row('CANCELLED', 1, 1, '20.00'),
        row('REFUNDED', 1, 1, '30.00'),
      ]);
    });

    it("by product, from the sales' lines", async () => {
      expect(await sales('PRODUCT')).toEqual([
        row('B', 2, 3, '120.00'),
        row('A', 2, 3, '110.00'),
        row('C', 1, 1, '15.50', 'USD'),
        row('C', 1, 1, '10.00'),
      ]);
    });

    it('counts parts of hours at both ends of a range exactly', async () => {
      // From 15:45 on 1 March to 02:30 on 2 March (UTC): T2 (16:30) and J1 (02:15), not T1 (15:30).
      expect(await sales('CHANNEL', { from: '2026-03-01T15:45:00Z', to: '2026-03-02T02:30:00Z' })).toEqual([
        row('jd', 1, 2, '80.00'),
        row('tmall', 1, 1, '50.00'),
      ]);
      // Within one hour.
      expect(await sales('CHANNEL', { from: '2026-03-02T02:10:00Z', to: '2026-03-02T02:20:00Z' })).toEqual([
        row('jd', 1, 2, '80.00'),
      ]);
    });

    it('answers an empty range with nothing, and a range with no sales with zero days', async () => {
      expect(await sales('CHANNEL', { to: range.from })).toEqual([]);
      expect(await sales('DAY', { to: range.from })).toEqual([]);
      expect(await sales('CHANNEL', { from: '2025-01-01T00:00:00Z', to: '2025-01-03T00:00:00Z' })).toEqual(
        [],
      );
      expect(await sales('DAY', { from: '2024-12-31T16:00:00Z', to: '2025-01-02T16:00:00Z' })).toEqual([
        row('2025-01-01', 0, 0, '0.00'),
        row('2025-01-02', 0, 0, '0.00'),
      ]);
    });

    it('gives the same numbers before and after the changes are folded into the hourly sums', async () => {
      const before = await sales('STATUS');
      const pending = await hub.orm.em
        .fork()
        .execute<{ n: string }[]>('select count(*) as n from sales_hourly_change');
      expect(Number(pending[0].n)).toBeGreaterThan(0);
      expect(await foldSalesChanges(hub.orm.em.fork())).toBeGreaterThan(0);
      const left = await hub.orm.em
        .fork()
        .execute<{ n: string }[]>('select count(*) as n from sales_hourly_change');
      expect(Number(left[0].n)).toBe(0);
      expect(await sales('STATUS')).toEqual(before);
    });

    it('follows a sale that changes status, and keeps the hourly sums equal to the orders', async () => {
      const em = hub.orm.em.fork();
      await em.execute(`update "order" set status = 'CANCELLED' where external_id = 'T2'`);
      expect(await sales('CHANNEL')).toEqual([
        row('tmall', 2, 4, '110.00'),
        row('jd', 1, 2, '80.00'),
        row('shopify', 1, 1, '15.50', 'USD'),
      ]);
      await em.execute(`update "order" set status = 'PAID' where external_id = 'T2'`);
      await em.execute(`delete from "order" where external_id = 'T-after'`);
      await foldSalesChanges(em);
      // Recomputed from scratch, the hourly sums are what the triggers kept.
      const drift = await em.execute(
        `select * from (
           select date_trunc('hour', o.placed_at, 'UTC') as hour, o.channel_id, o.status, o.currency_code,
                  count(*) as orders, coalesce(sum(l.units), 0) as units, sum(o.total_amount) as revenue
           from "order" o left join (select order_id, sum(quantity) as units from order_line group by 1) l
             on l.order_id = o.id
           where o.parent_id is null group by 1, 2, 3, 4
         ) truth full join (select * from sales_hourly where orders <> 0 or units <> 0 or revenue <> 0) kept
           using (hour, channel_id, status, currency_code)
         where truth.orders is distinct from kept.orders or truth.units is distinct from kept.units
            or truth.revenue is distinct from kept.revenue`,
      );
      expect(drift).toEqual([]);
    });

    it('refuses a range that runs backwards, an unknown time zone and a key without access', async () => {
      const backwards = await hub.gql(SALES, { from: range.to, to: range.from, groupBy: 'DAY' }, analyst);
      expect(errorCodes(backwards)).toEqual(['BAD_USER_INPUT']);
      const zone = await hub.gql(SALES, { ...range, groupBy: 'DAY', tz: 'Mars/Olympus' }, analyst);
      expect(errorCodes(zone)).toEqual(['BAD_USER_INPUT']);
      expect(zone.errors?.[0].message).toContain('Mars/Olympus');
      const storefront = await hub.apiKey('STOREFRONT', 'tmall');
      expect(errorCodes(await hub.gql(SALES, { ...range, groupBy: 'DAY' }, storefront))).toEqual([
        'FORBIDDEN',
      ]);
    });
  });

  describe('fulfillmentReport', () => {
    const range = { from: '2026-04-01T00:00:00Z', to: '2026-04-08T00:00:00Z' };

    beforeAll(async () => {
      const { tmall, jd } = channels;
      const line: Sale['lines'] = [['A', 1, '10.00']];
      // Paid after 600 s, packed 7,200 s later, shipped 14,400 s later, delivered two days later.
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'F1',
        status: OrderStatus.DELIVERED,
        placedAt: '2026-04-01T00:00:00Z',
        lines: line,
        times: {
          paid: '2026-04-01T00:10:00Z',
          packed: '2026-04-01T02:10:00Z',
          shipped: '2026-04-01T06:10:00Z',
          delivered: '2026-04-03T06:10:00Z',
        },
      });
      // 1,200 s, 14,400 s, 7,200 s; not delivered yet.
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'F2',
        status: OrderStatus.SHIPPED,
        placedAt: '2026-04-01T01:00:00Z',
        lines: line,
        times: {
          paid: '2026-04-01T01:20:00Z',
          packed: '2026-04-01T05:20:00Z',
          shipped: '2026-04-01T07:20:00Z',
        },
      });
      // A split sale paid after 1,800 s; its parcels packed 3,600 s and 10,800 s after payment, each shipped an
      // hour later. The sale's own packing and shipping repeat its parcels' and are not counted.
      const f3 = await insertSale(hub.orm, {
        channel: jd,
        externalId: 'F3',
        status: OrderStatus.SHIPPED,
        placedAt: '2026-04-01T02:00:00Z',
        lines: [
          ['A', 1, '10.00'],
          ['B', 1, '10.00'],
        ],
        times: {
          paid: '2026-04-01T02:30:00Z',
          packed: '2026-04-01T05:30:00Z',
          shipped: '2026-04-01T06:30:00Z',
        },
      });
      for (const [label, packed, shipped] of [
        ['a', '2026-04-01T03:30:00Z', '2026-04-01T04:30:00Z'],
        ['b', '2026-04-01T05:30:00Z', '2026-04-01T06:30:00Z'],
      ]) {
        await insertSale(hub.orm, {
          channel: jd,
          externalId: `F3#${label}`,
          status: OrderStatus.SHIPPED,
          placedAt: '2026-04-01T02:00:00Z',
          lines: line,
          parentId: f3,
          times: { paid: '2026-04-01T02:30:00Z', packed, shipped },
        });
      }
      // Placed before the range, paid 3,600 s later inside it.
      await insertSale(hub.orm, {
        channel: jd,
        externalId: 'F4',
        status: OrderStatus.PAID,
        placedAt: '2026-03-31T23:00:00Z',
        lines: line,
        times: { paid: '2026-04-01T00:00:00Z' },
      });
      // Every step before the range: counted nowhere.
      await insertSale(hub.orm, {
        channel: tmall,
        externalId: 'F0',
        status: OrderStatus.DELIVERED,
        placedAt: '2026-03-20T00:00:00Z',
        lines: line,
        times: {
          paid: '2026-03-20T00:01:00Z',
          packed: '2026-03-20T01:00:00Z',
          shipped: '2026-03-20T02:00:00Z',
          delivered: '2026-03-22T00:00:00Z',
        },
      });
    });

    const stages = async (extra: Record<string, unknown> = {}) =>
      (await query<{ fulfillmentReport: unknown[] }>(FULFILLMENT, { ...range, ...extra })).fulfillmentReport;
    const stage = (name: string, orders: number, avg: number, p50: number, p90: number) => ({
      stage: name,
      orders,
      avgSeconds: avg,
      p50Seconds: p50,
      p90Seconds: p90,
    });

    it('gives each stage its count, mean, median and 90th percentile', async () => {
      expect(await stages()).toEqual([
        // 600, 1,200, 1,800, 3,600: the 90th percentile lies 0.7 of the way from 1,800 to 3,600.
        stage('PLACED_TO_PAID', 4, 1800, 1500, 3060),
        // Parcels F1, F2, F3#a, F3#b: 7,200, 14,400, 3,600, 10,800.
        stage('PAID_TO_PACKED', 4, 9000, 9000, 13320),
        // 14,400, 7,200, 3,600, 3,600.
        stage('PACKED_TO_SHIPPED', 4, 7200, 5400, 12240),
        stage('SHIPPED_TO_DELIVERED', 1, 172800, 172800, 172800),
      ]);
    });

    it("narrows to one channel's orders; the slowest step shows", async () => {
      expect(await stages({ channel: 'jd' })).toEqual([
        stage('PLACED_TO_PAID', 2, 2700, 2700, 3420),
        stage('PAID_TO_PACKED', 2, 7200, 7200, 10080),
        stage('PACKED_TO_SHIPPED', 2, 3600, 3600, 3600),
        stage('SHIPPED_TO_DELIVERED', 0, 0, 0, 0),
      ]);
    });

    it('answers an empty range with every stage at zero, and an unknown channel with NOT_FOUND', async () => {
      expect(await stages({ to: range.from })).toEqual([
        stage('PLACED_TO_PAID', 0, 0, 0, 0),
        stage('PAID_TO_PACKED', 0, 0, 0, 0),
        stage('PACKED_TO_SHIPPED', 0, 0, 0, 0),
        stage('SHIPPED_TO_DELIVERED', 0, 0, 0, 0),
      ]);
      expect(errorCodes(await hub.gql(FULFILLMENT, { ...range, channel: 'nope' }, analyst))).toEqual([
        'NOT_FOUND',
      ]);
    });
  });

  describe('volumeAnomalies and the VOLUME_ANOMALY alert', () => {
    // The day judged: 10 May 2026; the 7 days before it give the baseline.
    const day = Date.UTC(2026, 4, 10);
    const at = (dayOffset: number, hour: number, minute = 5) =>
      new Date(day + dayOffset * 86_400_000 + hour * 3_600_000 + minute * 60_000);
    const window = { from: at(0, 10, 0).toISOString(), to: at(0, 13, 0).toISOString() };

    beforeAll(async () => {
      const em = hub.orm.em.fork();
      const orders = async (channel: Channel, prefix: string, times: Date[]) =>
        em.execute(
          `insert into "order" (id, channel_id, external_id, status, customer_name, ship_line1, total_amount,
             placed_at, origin)
           select gen_random_uuid(), ?, ? || n, 'PAID', 'Buyer', '1 Road', 10, t::timestamptz, 'API'
           from jsonb_array_elements_text(?::jsonb) with ordinality as x(t, n)`,
          [channel.id, prefix, JSON.stringify(times.map((t) => t.toISOString()))],
        );
      const repeat = (n: number, d: number, h: number) => Array.from({ length: n }, (_, i) => at(d, h, i));
      // tmall: 10 orders an hour from 10:00 to 13:00 on each of the 7 days before; jd: 2.
      for (let d = -7; d <= -1; d++) {
        for (const h of [10, 11, 12]) {
          await orders(channels.tmall, `V${d}h${h}-`, repeat(10, d, h));
          await orders(channels.jd, `W${d}h${h}-`, repeat(2, d, h));
        }
      }
      // On the day: tmall as usual at 10, silent at 11, 14 orders at 12 (+40 %); jd silent all along.
      await orders(channels.tmall, 'V0h10-', repeat(10, 0, 10));
      await orders(channels.tmall, 'V0h12-', repeat(14, 0, 12));
    });

    const anomalies = async (extra: Record<string, unknown> = {}) =>
      (await query<{ volumeAnomalies: unknown[] }>(ANOMALIES, { ...window, ...extra })).volumeAnomalies;

    it('flags the hour a channel went silent and the hour it ran 40 % over', async () => {
      expect(await anomalies()).toEqual([
        {
          channelCode: 'tmall',
          bucketStart: '2026-05-10T11:00:00.000Z',
          orders: 0,
          baseline: 10,
          deviationPercent: -100,
        },
        {
          channelCode: 'tmall',
          bucketStart: '2026-05-10T12:00:00.000Z',
          orders: 14,
          baseline: 10,
          deviationPercent: 40,
        },
      ]);
    });

    it('follows the tolerance, the smallest baseline judged and the channel asked for', async () => {
      expect(await anomalies({ tolerance: 50 })).toEqual([
        {
          channelCode: 'tmall',
          bucketStart: '2026-05-10T11:00:00.000Z',
          orders: 0,
          baseline: 10,
          deviationPercent: -100,
        },
      ]);
      const quiet = await anomalies({ min: 1, channel: 'jd' });
      expect(quiet).toEqual(
        [10, 11, 12].map((h) => ({
          channelCode: 'jd',
          bucketStart: `2026-05-10T${h}:00:00.000Z`,
          orders: 0,
          baseline: 2,
          deviationPercent: -100,
        })),
      );
    });

    it('gives the same hours in Asia/Shanghai, and nothing for a range with no baseline', async () => {
      expect(await anomalies({ tz: 'Asia/Shanghai' })).toHaveLength(2);
      expect(await anomalies({ from: '2026-01-01T00:00:00Z', to: '2026-01-02T00:00:00Z' })).toEqual([]);
    });

    it('raises one stored, pushed VOLUME_ANOMALY alert per channel and hour, however many processes check', async () => {
      const ops = await hub.apiKey('OPS');
      const client = hub.wsClient(ops);
      const alerts = feed<Record<string, unknown>>(
        client,
        `subscription { stockAlert { kind productCode channelCode bucketStart expectedOrders actualOrders message } }`,
        'stockAlert',
        {},
      );
      try {
        await waitFor(() => hub.hub.events.listenerCount('stockAlert') > 0, 'the subscriber to be listening');
        const settings = { tolerancePercent: 30, minBaseline: 5 };
        // Five past one: the two whole hours before are 11:00 and 12:00.
        const now = at(0, 13, 5);
        const raised = await Promise.all(
          [1, 2, 3].map(() => raiseVolumeAlerts(hub.orm.em.fork(), settings, now)),
        );
        expect(raised.reduce((a, b) => a + b, 0)).toBe(2);
        expect(await raiseVolumeAlerts(hub.orm.em.fork(), settings, now)).toBe(0);

        const pushed = await alerts.take(2);
        expect(
          pushed.map((a) => [a.kind, a.channelCode, a.bucketStart, a.expectedOrders, a.actualOrders]),
        ).toEqual([
          ['VOLUME_ANOMALY', 'tmall', '2026-05-10T11:00:00.000Z', 10, 0],
          ['VOLUME_ANOMALY', 'tmall', '2026-05-10T12:00:00.000Z', 10, 14],
        ]);
        expect(pushed[0].message).toBe(
          'tmall: 0 orders in the hour from 2026-05-10T11:00 UTC against 10 expected (the same hour on the 7 days before), -100%.',
        );
        const stored = await query<{ stockAlerts: { kind: string; channelCode: string }[] }>(
          `{ stockAlerts { kind channelCode } }`,
          {},
          ops,
        );
        expect(stored.stockAlerts.filter((a) => a.kind === 'VOLUME_ANOMALY')).toHaveLength(2);
      } finally {
        alerts.stop();
        await client.dispose();
      }
    });
  });
});
