import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform, RefundStatus, RiskKind } from '../common/enums.js';
import { evaluateRefundRisk } from '../services/risk.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { insertReturns, storefrontPayload, type BuyerAddress } from './support/risk-fixtures.js';
import { feed } from './support/subscribe.js';
import { waitFor } from './support/wait.js';

const INGEST = `mutation($channelCode: String!, $payload: JSON!) {
  ingestChannelOrder(channelCode: $channelCode, payload: $payload) { id }
}`;
const FLAGS = `query($id: ID!) { order(id: $id) { riskFlags { id orderId kind score reason at resolved } } }`;
const SET_RULE = `mutation($kind: RiskKind!, $enabled: Boolean!, $params: JSON) {
  setRiskRule(kind: $kind, enabled: $enabled, params: $params) { kind enabled params updatedAt updatedBy }
}`;
const HOUR = 3600_000;
const DAY = 24 * HOUR;

describe('risk rules flag risky orders as they arrive', () => {
  let hub: TestHub;
  let seq = 0;
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  const buyer = (line1: string, phone: string | null = '138****5678', name = '张三'): BuyerAddress => ({
    name,
    phone,
    province: '浙江省',
    city: '杭州市',
    district: '西湖区',
    line1,
  });
  /** Sends an order through the gateway (the API door) and answers its id. */
  async function order(
    who: BuyerAddress,
    options: {
      channel?: string;
      unitPrice?: string;
      productCode?: string;
      placedAt?: Date;
      externalId?: string;
    } = {},
  ): Promise<string> {
    const payload = storefrontPayload(
      options.externalId ?? `R-${++seq}`,
      who,
      [{ productCode: options.productCode ?? 'TEA', unitPrice: options.unitPrice ?? '59.00' }],
      options.placedAt,
    );
    const response = await hub.gql<{ ingestChannelOrder: { id: string } }>(INGEST, {
      channelCode: options.channel ?? 'web',
      payload,
    });
    expect(errorCodes(response)).toEqual([]);
    return response.data!.ingestChannelOrder.id;
  }
  async function orders(n: number, who: BuyerAddress, options: Parameters<typeof order>[1] = {}) {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) ids.push(await order(who, options));
    return ids;
  }
  /** The kinds each order is flagged with, in the order given. */
  async function kinds(ids: string[]): Promise<string[][]> {
    const rows = await sql<{ order_id: string; kind: string }>(
      `select order_id, kind from risk_flag where order_id = any(?::uuid[]) order by kind`,
      [`{${ids.join(',')}}`],
    );
    return ids.map((id) => rows.filter((r) => r.order_id === id).map((r) => r.kind));
  }
  const riskAlerts = async (ids: string[]) =>
    (
      await sql<{ n: number }>(
        `select count(*)::int as n from stock_alert where kind = 'RISK' and order_id = any(?::uuid[])`,
        [`{${ids.join(',')}}`],
      )
    )[0].n;
  const setRule = async (kind: RiskKind, enabled: boolean, params: Record<string, unknown> | null = null) => {
    const response = await hub.gql<{ setRiskRule: any }>(SET_RULE, { kind, enabled, params });
    expect(errorCodes(response)).toEqual([]);
    return response.data!.setRiskRule;
  };

  beforeAll(async () => {
    hub = await startTestHub('risk-rules');
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'web2', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 100_000);
  });

  afterAll(() => hub?.close());

  describe('brushing', () => {
    it('flags every order of a ring once the sixth reaches one address within 72 hours, with one RISK alert each', async () => {
      const ring = buyer('文一路 8 号 3 幢');
      const first = await orders(5, ring);
      expect(await kinds(first)).toEqual([[], [], [], [], []]);
      const sixth = await order(ring);
      const all = [...first, sixth];
      expect(await kinds(all)).toEqual(all.map(() => [RiskKind.BRUSHING]));
      expect(await riskAlerts(all)).toBe(6);
      const flags = (await hub.gql<{ order: any }>(FLAGS, { id: sixth })).data!.order.riskFlags;
      expect(flags).toEqual([
        expect.objectContaining({ orderId: sixth, kind: 'BRUSHING', score: 1, resolved: false }),
      ]);
      expect(flags[0].reason).toMatch(/^6 orders to one address or phone within 72 h/);
    });

    it('compares addresses as a person does: full-width, spaces, punctuation and case aside', async () => {
      const spellings = [
        '学院路 12号 A-301',
        '学院路１２号Ａ３０１',
        ' 学院路  12 号 a301 ',
        '学院路12号，A-301',
      ];
      const ids: string[] = [];
      for (const line1 of [...spellings, ...spellings.slice(0, 2)]) ids.push(await order(buyer(line1)));
      expect(await kinds(ids)).toEqual(ids.map(() => [RiskKind.BRUSHING]));
    });

    it('counts the same masked phone at the same address as one buyer, but not at six different addresses', async () => {
      const ids: string[] = [];
      for (let i = 0; i < 6; i++) ids.push(await order(buyer(`古墩路 ${100 + i} 号`, '139****0001')));
      expect(await kinds(ids)).toEqual(ids.map(() => []));
    });

    it('counts one unmasked phone across addresses: four orders from two channels are a ring, three are not', async () => {
      const phone = '+86 137 0000 1234';
      const three = [
        await order(buyer('莫干山路 1 号', phone), { channel: 'web' }),
        await order(buyer('莫干山路 2 号', '13700001234'), { channel: 'web2' }),
        await order(buyer('莫干山路 3 号', '137-0000-1234'), { channel: 'web' }),
      ];
      expect(await kinds(three)).toEqual([[], [], []]);
      const fourth = await order(buyer('莫干山路 4 号', phone), { channel: 'web2' });
      expect(await kinds([...three, fourth])).toEqual([1, 2, 3, 4].map(() => [RiskKind.BRUSHING]));
    });

    it('flags four tiny orders (5.00 or less, free shipping standing for none) to one address; four ordinary ones are not', async () => {
      const tiny = await orders(4, buyer('天目山路 9 号'), { unitPrice: '0.99' });
      expect(await kinds(tiny)).toEqual(tiny.map(() => [RiskKind.BRUSHING]));
      const ordinary = await orders(4, buyer('天目山路 10 号'), { unitPrice: '5.01' });
      expect(await kinds(ordinary)).toEqual(ordinary.map(() => []));
    });

    it('counts only the orders within the window: six a day apart are not a ring', async () => {
      const start = Date.now() - 10 * DAY;
      const ids: string[] = [];
      for (let i = 0; i < 6; i++)
        ids.push(await order(buyer('教工路 5 号'), { placedAt: new Date(start + i * 1.5 * DAY) }));
      expect(await kinds(ids)).toEqual(ids.map(() => []));
    });

    it('stores a flag once: the same order delivered again flags nothing twice and raises no new alert', async () => {
      const ring = buyer('丰潭路 7 号');
      const ids = await orders(6, ring, {});
      const again = await hub.gql(INGEST, {
        channelCode: 'web',
        payload: storefrontPayload(`R-${seq}`, ring, [{ productCode: 'TEA', unitPrice: '59.00' }]),
      });
      expect(errorCodes(again)).toEqual([]);
      const [{ flags }] = await sql<{ flags: number }>(
        `select count(*)::int as flags from risk_flag where order_id = any(?::uuid[])`,
        [`{${ids.join(',')}}`],
      );
      expect(flags).toBe(6);
      expect(await riskAlerts(ids)).toBe(6);
    });
  });

  describe('serial returner', () => {
    /** One order every four days, the last today: a buyer over weeks, no brushing ring. */
    const spaced = async (n: number, who: BuyerAddress, from = 0) => {
      const ids: string[] = [];
      for (let i = from; i < from + n; i++)
        ids.push(await order(who, { placedAt: new Date(Date.now() - (10 - i) * 4 * DAY) }));
      return ids;
    };

    it('flags a buyer whose last orders came back half the time or more, once a refund arrives', async () => {
      const who = buyer('西溪路 18 号', '186****4321', '李四');
      const ids = await spaced(4, who);
      await insertReturns(hub.orm.em, ids.slice(0, 1));
      await hub.orm.em.fork().transactional((tx) => evaluateRefundRisk(tx, ids.slice(0, 1)));
      expect(await kinds(ids)).toEqual(ids.map(() => []));
      await insertReturns(hub.orm.em, ids.slice(1, 2));
      const flagged = await hub.orm.em.fork().transactional((tx) => evaluateRefundRisk(tx, ids.slice(1, 2)));
      expect(flagged).toBe(4);
      expect(await kinds(ids)).toEqual(ids.map(() => [RiskKind.SERIAL_RETURNER]));
      // Their next orders are judged as they arrive: 2 of 5 back is under half; 3 of 6 is half.
      const [fifth] = await spaced(1, who, 4);
      expect(await kinds([fifth])).toEqual([[]]);
      await insertReturns(hub.orm.em, ids.slice(2, 3));
      const [sixth] = await spaced(1, who, 5);
      expect(await kinds([sixth])).toEqual([[RiskKind.SERIAL_RETURNER]]);
    });

    it('does not count rejected or cancelled cases, nor a buyer with too few orders', async () => {
      const refused = await orders(4, buyer('文三路 20 号', '135****0002', '王五'));
      await insertReturns(hub.orm.em, refused.slice(0, 2), RefundStatus.REJECTED);
      await insertReturns(hub.orm.em, refused.slice(2, 4), RefundStatus.CANCELLED);
      const few = await orders(3, buyer('文三路 21 号', '135****0003', '赵六'));
      await insertReturns(hub.orm.em, few);
      await hub.orm.em.fork().transactional((tx) => evaluateRefundRisk(tx, [...refused, ...few]));
      expect(await kinds([...refused, ...few])).toEqual([...refused, ...few].map(() => []));
    });

    it('tells buyers apart by masked phone at one address: another phone there is another buyer', async () => {
      const home = '学林街 3 号';
      const mother = await orders(2, buyer(home, '150****1111', '陈母'));
      const son = await orders(2, buyer(home, '151****2222', '陈子'));
      await insertReturns(hub.orm.em, [...mother, ...son]);
      await hub.orm.em.fork().transactional((tx) => evaluateRefundRisk(tx, [...mother, ...son]));
      expect(await kinds([...mother, ...son])).toEqual([[], [], [], []]);
    });
  });

  describe('mismatch', () => {
    it('flags a line paid more than 70% under its list price; 65% off is not flagged', async () => {
      const set = await hub.gql(
        `mutation { upsertProduct(input: { productCode: "LAMP", name: "Lamp", listPrice: "100.00" }) { listPrice } }`,
      );
      expect(set.data).toEqual({ upsertProduct: { listPrice: '100.00' } });
      const cheap = await order(buyer('解放路 1 号', null, '孙七'), {
        productCode: 'LAMP',
        unitPrice: '29.99',
      });
      const sale = await order(buyer('解放路 2 号', null, '周八'), {
        productCode: 'LAMP',
        unitPrice: '35.00',
      });
      expect(await kinds([cheap, sale])).toEqual([[RiskKind.MISMATCH], []]);
      const [flag] = await sql<{ reason: string }>(`select reason from risk_flag where order_id = ?`, [
        cheap,
      ]);
      expect(flag.reason).toBe(
        'LAMP: 29.99 paid for 1 at a list price of 100.00 (70.0% off; more than 70% is flagged)',
      );
    });

    it('judges an order placed through placeOrder as it is placed', async () => {
      await hub.gql(
        `mutation { upsertProduct(input: { productCode: "TEA", name: "Tea", listPrice: "100.00" }) { id } }`,
      );
      const placed = await hub.gql<{ placeOrder: { id: string; riskFlags: { kind: string }[] } }>(
        `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id riskFlags { kind } } }`,
        {
          input: {
            channelCode: 'web',
            externalId: `P-${++seq}`,
            customerName: '郑十',
            shippingAddress: { line1: '环城北路 8 号' },
            lines: [{ productCode: 'TEA', quantity: 2, unitPrice: '20.00' }],
          },
        },
      );
      expect(errorCodes(placed)).toEqual([]);
      expect(placed.data!.placeOrder.riskFlags).toEqual([{ kind: 'MISMATCH' }]);
    });
  });

  describe('thresholds are data', () => {
    it('lists every rule with its defaults, and setRiskRule changes what is flagged from the next order', async () => {
      const listed = await hub.gql<{ riskRules: any[] }>(`{ riskRules { kind enabled params updatedAt } }`);
      expect(listed.data!.riskRules.map((r) => [r.kind, r.enabled])).toEqual([
        ['BRUSHING', true],
        ['SERIAL_RETURNER', true],
        ['VELOCITY', true],
        ['MISMATCH', true],
      ]);
      expect(listed.data!.riskRules[0].updatedAt).toBeNull();
      expect(listed.data!.riskRules[0].params).toEqual({
        windowHours: 72,
        minOrders: 6,
        minOrdersWithSignal: 4,
        tinyAmount: '5.00',
      });

      const rule = await setRule(RiskKind.BRUSHING, true, { minOrders: 3 });
      expect(rule).toMatchObject({
        kind: 'BRUSHING',
        enabled: true,
        params: { minOrders: 3, windowHours: 72 },
      });
      expect(rule.updatedAt).toBeTruthy();
      const three = await orders(3, buyer('凤起路 3 号'));
      expect(await kinds(three)).toEqual(three.map(() => [RiskKind.BRUSHING]));

      await setRule(RiskKind.BRUSHING, false);
      const off = await orders(6, buyer('凤起路 4 号'));
      expect(await kinds(off)).toEqual(off.map(() => []));
      await setRule(RiskKind.BRUSHING, true, { minOrders: 6 });
    });

    it('refuses params the rule does not have, or out of range, naming the field', async () => {
      const unknown = await hub.gql(SET_RULE, { kind: 'MISMATCH', enabled: true, params: { discount: 5 } });
      expect(unknown.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'params' });
      const range = await hub.gql(SET_RULE, {
        kind: 'SERIAL_RETURNER',
        enabled: true,
        params: { returnRate: 1.5 },
      });
      expect(range.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'params.returnRate',
      });
      // Velocity's windows are whole hours, the roll-up's.
      const window = await hub.gql(SET_RULE, {
        kind: 'VELOCITY',
        enabled: true,
        params: { windowMinutes: 90 },
      });
      expect(window.errors?.[0].extensions).toMatchObject({
        code: 'BAD_USER_INPUT',
        field: 'params.windowMinutes',
      });
      const ops = await hub.apiKey('OPS');
      expect(errorCodes(await hub.gql(SET_RULE, { kind: 'MISMATCH', enabled: false }, ops))).toEqual([
        'FORBIDDEN',
      ]);
    });
  });

  it('raises a RISK alert that stockAlert subscribers hear, naming the order', async () => {
    const ops = await hub.apiKey('OPS');
    const before = hub.hub.events.listenerCount('stockAlert');
    const alerts = feed<{ kind: string; orderId: string; message: string }>(
      hub.wsClient(ops),
      `subscription { stockAlert { kind orderId message channelCode } }`,
      'stockAlert',
      {},
    );
    try {
      await waitFor(() => hub.hub.events.listenerCount('stockAlert') > before, 'the subscriber');
      const id = await order(buyer('延安路 1 号', null, '吴九'), { productCode: 'LAMP', unitPrice: '1.00' });
      // LAMP has no stock: an OUT_OF_STOCK alert comes too.
      await waitFor(
        () => alerts.events.some((a) => a.kind === 'RISK') || alerts.errors.length > 0,
        'a RISK alert',
      );
      expect(alerts.errors).toEqual([]);
      const alert = alerts.events.find((a) => a.kind === 'RISK');
      expect(alert).toMatchObject({ kind: 'RISK', orderId: id, channelCode: 'web' });
      expect(alert!.message).toMatch(/flagged MISMATCH: LAMP: 1\.00 paid/);
    } finally {
      alerts.stop();
    }
  });
});
