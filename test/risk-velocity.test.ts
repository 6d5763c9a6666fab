import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform, RiskKind } from '../common/enums.js';
import { judgeVelocity } from '../services/risk.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { insertFixtureOrders, storefrontPayload, type BuyerAddress } from './support/risk-fixtures.js';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const INGEST = `mutation($channelCode: String!, $payload: JSON!) {
  ingestChannelOrder(channelCode: $channelCode, payload: $payload) { id }
}`;

/**
 * The velocity rule on its defaults (a window of 60 min, 14 days of baseline, z-score 6, 20 orders, sold on 7 of
 * those days), judged by judgeVelocity at a time the test gives. Every order is written before the first
 * judgement: an hour is rolled up once, so orders placed in it later are not counted (as in the hub, where an
 * hour is rolled up after it closed).
 */
describe('the velocity rule, judged once per window outside the ingestion', () => {
  let hub: TestHub;
  const channelIds: Record<string, string> = {};
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);
  /** The end of the first window judged (an hour, two days ago), and the second window's. */
  const end = Math.floor(Date.now() / HOUR) * HOUR - 2 * DAY;
  const end2 = end + HOUR;
  /** Ten minutes after each window closed: the hub's job judges it then (an hour settles for 5 minutes). */
  const judgedAt = new Date(end + 10 * 60_000);
  const judgedAt2 = new Date(end2 + 10 * 60_000);
  const judge = (now: Date) => judgeVelocity(hub.orm.em.fork(), now);

  let seq = 0;
  const buyer = (): BuyerAddress => ({
    name: `客${++seq}`,
    phone: null,
    province: '浙江省',
    city: '杭州市',
    district: '西湖区',
    line1: `速度路 ${seq} 号`,
  });
  /** `n` orders of the product on the channel, spread over the hour before `windowEnd`. */
  const inWindow = (productCode: string, n: number, windowEnd: number, channel = 'web') =>
    Array.from({ length: n }, (_, i) => ({
      channelId: channelIds[channel],
      externalId: `V-${productCode}-${channel}-${windowEnd}-${i}`,
      buyer: buyer(),
      placedAt: new Date(windowEnd - HOUR + ((i + 0.5) * HOUR) / n),
      lines: [{ productCode, productId: null, quantity: 1, unitPrice: '59.00' }],
    }));
  /** `perDay[d]` orders in the same hour d + 1 days before the window ending at `windowEnd`. */
  const history = (productCode: string, perDay: number[], windowEnd: number) =>
    perDay.flatMap((n, d) =>
      inWindow(productCode, n, windowEnd - (d + 1) * DAY).map((o, i) => ({
        ...o,
        externalId: `H-${productCode}-${windowEnd}-${d}-${i}`,
      })),
    );
  const ids: Record<string, string[]> = {};

  async function kinds(orderIds: string[]): Promise<string[][]> {
    const rows = await sql<{ order_id: string; kind: string }>(
      `select order_id, kind from risk_flag where order_id = any(?::uuid[]) order by kind`,
      [`{${orderIds.join(',')}}`],
    );
    return orderIds.map((id) => rows.filter((r) => r.order_id === id).map((r) => r.kind));
  }
  const velocityAlerts = (productCode: string) =>
    sql<{
      channel_code: string;
      bucket_start: string;
      expected_orders: number;
      actual_orders: number;
      order_id: string | null;
      message: string;
    }>(
      `select channel_code, bucket_start, expected_orders, actual_orders, order_id, message from stock_alert
       where kind = 'RISK' and product_code = ? order by id`,
      [productCode],
    );

  beforeAll(async () => {
    hub = await startTestHub('risk-velocity');
    channelIds.web = (await seedChannel(hub.orm, 'web', Platform.STOREFRONT)).id;
    channelIds.web2 = (await seedChannel(hub.orm, 'web2', Platform.STOREFRONT)).id;
    await seedProduct(hub.orm, 'CUP', 100_000);

    const steady = [20, 24, 18, 22, 25, 19, 21, 23, 20, 22, 24, 18, 21, 20];
    const usual = [2, 1, 3, 2, 2, 1, 2, 3, 2, 1, 2, 2, 3, 2];
    await insertFixtureOrders(hub.orm.em, [
      ...history('CUP', usual, end),
      ...history('PEN', steady, end),
      ...history('BAG', [0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0], end),
      // Sold on six of the fourteen days: too little history to judge 30 orders by; on seven, enough.
      ...history('NEW', [1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 0], end),
      ...history('SEVEN', [1, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 1, 0, 1], end),
      ...history('LAMP', usual, end2),
    ]);
    const window = [
      ...inWindow('PEN', 26, end),
      ...inWindow('BAG', 19, end),
      ...inWindow('NEW', 30, end),
      ...inWindow('SEVEN', 30, end),
      ...inWindow('CUP', 1, end, 'web2'),
      // A minute before the window: not in it.
      { ...inWindow('CUP', 1, end)[0], externalId: 'V-CUP-before', placedAt: new Date(end - HOUR - 60_000) },
      ...inWindow('LAMP', 25, end2),
    ];
    const inserted = await insertFixtureOrders(hub.orm.em, window);
    for (const code of ['PEN', 'BAG', 'NEW', 'SEVEN', 'LAMP'])
      ids[code] = inserted.filter((_, i) => window[i].lines[0].productCode === code);
    ids.CUP_ELSEWHERE = inserted.filter((_, i) => window[i].lines[0].productCode === 'CUP');

    // The spike arrives through the gateway, one order at a time, as webhooks bring it.
    ids.CUP = [];
    for (const o of inWindow('CUP', 20, end)) {
      const response = await hub.gql<{ ingestChannelOrder: { id: string } }>(INGEST, {
        channelCode: 'web',
        payload: storefrontPayload(
          o.externalId,
          o.buyer,
          [{ productCode: 'CUP', unitPrice: '59.00' }],
          o.placedAt,
        ),
      });
      expect(errorCodes(response)).toEqual([]);
      ids.CUP.push(response.data!.ingestChannelOrder.id);
    }
  });

  afterAll(() => hub?.close());

  it('is on by default, and the ingestion does not judge it: the spike is not flagged as it arrives', async () => {
    const rules = await hub.gql<{ riskRules: { kind: string; enabled: boolean; params: any }[] }>(
      `{ riskRules { kind enabled params } }`,
    );
    expect(rules.data!.riskRules.find((r) => r.kind === 'VELOCITY')).toEqual({
      kind: 'VELOCITY',
      enabled: true,
      params: { windowMinutes: 60, baselineDays: 14, zScore: 6, minOrders: 20, minHistoryDays: 7 },
    });
    expect(await kinds(ids.CUP)).toEqual(ids.CUP.map(() => []));
  });

  it("flags each order of a product's window far above the same hour of the last two weeks, with one RISK alert", async () => {
    const judged = await judge(judgedAt);
    // The first run rolls up the window and 14 days before it; it judges the windows of the last 24 hours.
    expect(judged).toEqual({ hours: 14 * 24 + 1, windows: 24, spikes: 2, flagged: 50 });
    expect(await kinds(ids.CUP)).toEqual(ids.CUP.map(() => [RiskKind.VELOCITY]));
    const [flag] = await sql<{ detail: any; score: number; reason: string }>(
      `select detail, score, reason from risk_flag where order_id = ? and kind = 'VELOCITY'`,
      [ids.CUP[0]],
    );
    const windowStart = new Date(end - HOUR).toISOString();
    expect(flag.detail).toMatchObject({ productCode: 'CUP', orders: 20, median: 2, mad: 0, zScore: 18 });
    // (20 - 2) / max(1.4826 × 0, 1), against a threshold of 6
    expect(flag.score).toBe(3);
    expect(flag.reason).toBe(
      `CUP: 20 orders in the 60 min from ${windowStart.slice(0, 16)} UTC against a median of 2 in the same window on the 14 days before (robust z-score 18.0)`,
    );
    const alerts = await velocityAlerts('CUP');
    expect(
      alerts.map((a) => [
        a.channel_code,
        new Date(a.bucket_start).toISOString(),
        a.expected_orders,
        a.actual_orders,
        a.order_id,
      ]),
    ).toEqual([['web', windowStart, 2, 20, null]]);
    expect(alerts[0].message).toMatch(/^CUP on web: 20 orders in the 60 min from .* flagged VELOCITY$/);
    // Not the product's order on another channel, nor the one a minute before the window.
    expect(await kinds(ids.CUP_ELSEWHERE)).toEqual([[], []]);
  });

  it('leaves alone a product that always sells this much, one under the minimum, and one with little history', async () => {
    const calm = [...ids.PEN, ...ids.BAG, ...ids.NEW];
    expect(await kinds(calm)).toEqual(calm.map(() => []));
    // Sold on minHistoryDays (7) of the 14: judged, (30 - 0.5) / max(1.4826 × 0.5, 1).
    expect(await kinds(ids.SEVEN)).toEqual(ids.SEVEN.map(() => [RiskKind.VELOCITY]));
    for (const code of ['PEN', 'BAG', 'NEW']) expect(await velocityAlerts(code)).toEqual([]);
  });

  it('judges a window once: a second run, and a later one, flag nothing twice and raise no second alert', async () => {
    expect(await judge(judgedAt)).toEqual({ hours: 0, windows: 0, spikes: 0, flagged: 0 });
    expect(await judge(new Date(judgedAt.getTime() + 30 * 60_000))).toEqual({
      hours: 0,
      windows: 0,
      spikes: 0,
      flagged: 0,
    });
    const [{ flags }] = await sql<{ flags: number }>(
      `select count(*)::int as flags from risk_flag where kind = 'VELOCITY'`,
    );
    expect(flags).toBe(50);
    expect(await velocityAlerts('CUP')).toHaveLength(1);
  });

  it('two judgements at once (two hub processes) roll the hour up once and store one set of flags and one alert', async () => {
    const runs = await Promise.all([judge(judgedAt2), judge(judgedAt2), judge(judgedAt2)]);
    expect(runs.reduce((sum, r) => sum + r.hours, 0)).toBe(1);
    expect(runs.reduce((sum, r) => sum + r.spikes, 0)).toBe(1);
    expect(runs.reduce((sum, r) => sum + r.flagged, 0)).toBe(25);
    expect(await kinds(ids.LAMP)).toEqual(ids.LAMP.map(() => [RiskKind.VELOCITY]));
    expect(await velocityAlerts('LAMP')).toHaveLength(1);
    const [{ spikes }] = await sql<{ spikes: number }>(`select count(*)::int as spikes from velocity_spike`);
    expect(spikes).toBe(3);
  });
});
