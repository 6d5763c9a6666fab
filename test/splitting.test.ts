import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { RequestContext } from '../services/context.js';
import { expireHolds } from '../services/inventory.js';
import { createLogger } from '../server/logger.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { sample } from './support/webhooks.js';

const LINES = `lines { productCode quantity lineTotal { amount } }`;
const ORDER = `id externalId status total { amount } shippingAddress { province remote } ${LINES}
  parent { id }
  children { id externalId status total { amount } parent { id } shippingAddress { remote } ${LINES} }`;
const INGEST = `mutation($channelCode: String!, $payload: JSON!) {
  ingestChannelOrder(channelCode: $channelCode, payload: $payload) { ${ORDER} }
}`;
const SPLIT = `mutation($id: ID!) { splitOrder(orderId: $id) { id externalId status parent { id } ${LINES} } }`;
const GET = `query($id: ID!) { order(id: $id) { ${ORDER} paidAt shippedAt deliveredAt } }`;
const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { ${ORDER} } }`;
const MARK_PAID = `mutation($id: ID!) { markPaid(orderId: $id) { id status } }`;
const CANCEL = `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "customer asked") { id status } }`;
const PACK = `mutation($id: ID!) { markPacked(orderId: $id) { id status } }`;
const SHIP = `mutation($id: ID!, $tracking: String!) {
  shipOrder(orderId: $id, carrier: "SF", trackingNumber: $tracking) { id status }
}`;
const TRACK = `mutation($tracking: String!, $at: DateTime!) {
  recordShipmentEvent(trackingNumber: $tracking, status: DELIVERED, occurredAt: $at) { status }
}`;

describe('order splitting', () => {
  let hub: TestHub;
  let seq = 0;
  const keys: Record<string, string> = {};
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  /** A Taobao trade from the shared sample, to `province`, with the given lines. */
  function taobao(province: string, lines: [string, number, string][], status = 'WAIT_SELLER_SEND_GOODS') {
    const trade = sample('taobao');
    const tid = `${Date.now()}${++seq}`;
    const [template] = trade.orders.order;
    trade.tid_str = tid;
    trade.status = status;
    trade.receiver_state = province;
    trade.orders.order = lines.map(([code, num, price], i) => ({
      ...template,
      oid_str: `${tid}${i}`,
      sku_id: `sku-${code}`,
      outer_sku_id: code,
      num,
      price,
      payment: (Number(price) * num).toFixed(2),
    }));
    trade.payment = lines.reduce((sum, [, num, price]) => sum + Number(price) * num, 0).toFixed(2);
    return trade;
  }
  const MIXED: [string, number, string][] = [
    ['MILK-1L', 2, '129.90'],
    ['TEA-250G', 1, '99.00'],
    ['YOGURT', 3, '0.10'],
  ];
  const ingest = async (payload: unknown, channelCode = 'taobao-main') => {
    const response = await hub.gql<{ ingestChannelOrder: any }>(INGEST, { channelCode, payload });
    expect(response.errors).toBeUndefined();
    return response.data!.ingestChannelOrder;
  };
  const place = async (province: string, channelCode = 'web') => {
    const response = await hub.gql<{ placeOrder: any }>(PLACE, {
      input: {
        channelCode,
        externalId: `WEB-${++seq}`,
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road', province },
        lines: [
          { productCode: 'MILK-1L', quantity: 2, unitPrice: '129.90' },
          { productCode: 'TEA-250G', quantity: 1, unitPrice: '99.00' },
        ],
      },
    });
    expect(response.errors).toBeUndefined();
    return response.data!.placeOrder;
  };
  const get = async (id: string) => (await hub.gql<{ order: any }>(GET, { id })).data!.order;
  const split = (id: string, key?: string | null) => hub.gql<{ splitOrder: any[] }>(SPLIT, { id }, key);
  const stock = () =>
    sql<{ product_code: string; on_hand: number; reserved: number }>(
      `select product_code, on_hand, reserved from inventory_item order by product_code`,
    );
  const timeline = (id: string) =>
    sql<{ type: string; from_status: string; to_status: string; source: string; detail: any }>(
      // Events of one transaction share `at`; type breaks the tie (CREATED before SPLIT). The public seq is not relied on.
      `select type, from_status, to_status, source, detail from order_event where order_id = ? order by at, type`,
      [id],
    );

  beforeAll(async () => {
    hub = await startTestHub('splitting');
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO);
    await seedChannel(hub.orm, 'jd-main', Platform.JD);
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'other-shop', Platform.STOREFRONT);
    keys.OPS = await hub.apiKey('OPS');
    keys.ANALYST = await hub.apiKey('ANALYST');
    keys.CONNECTOR = await hub.apiKey('CONNECTOR', 'web');
    keys.STOREFRONT = await hub.apiKey('STOREFRONT', 'web');
    keys.OTHER_STOREFRONT = await hub.apiKey('STOREFRONT', 'other-shop');
  });

  beforeEach(async () => {
    await sql('delete from "order" where parent_id is not null');
    await sql('delete from "order"');
    await sql('delete from stock_alert');
    await sql('delete from product');
    await sql(`delete from split_rule where name <> 'cold-chain-remote'`);
    await sql(`update split_rule set enabled = true`);
    for (const code of ['MILK-1L', 'TEA-250G', 'YOGURT']) await seedProduct(hub.orm, code, 20);
    await sql(`update product set cold_chain = true where product_code in ('MILK-1L', 'YOGURT')`);
  });

  afterAll(() => hub.close());

  it('marks addresses in remote provinces when orders are stored, through every door', async () => {
    expect((await ingest(taobao('新疆维吾尔自治区', [['TEA-250G', 1, '99.00']]))).shippingAddress).toEqual({
      province: '新疆维吾尔自治区',
      remote: true,
    });
    expect((await ingest(taobao('浙江省', [['TEA-250G', 1, '99.00']]))).shippingAddress.remote).toBe(false);
    expect((await place('Tibet')).shippingAddress.remote).toBe(true);
    expect((await place('Zhejiang')).shippingAddress.remote).toBe(false);
    const csv = [
      'external_id,customer_name,province,address,product_code,quantity,unit_price,placed_at,status',
      'CSV-1,Ada,青海省,1 Road,TEA-250G,1,99.00,2026-11-01T10:00:00+08:00,PAID',
      'CSV-2,Ada,广东省,1 Road,TEA-250G,1,99.00,2026-11-01T10:00:00+08:00,PAID',
    ].join('\n');
    const imported = await hub.gql(
      `mutation($csv: String!) { importOrdersCsv(channelCode: "jd-main", csv: $csv, historical: true) { created failed } }`,
      { csv },
    );
    expect(imported.data).toEqual({ importOrdersCsv: { created: 2, failed: 0 } });
    expect(
      await sql(`select external_id, ship_remote from "order" where external_id like 'CSV-%' order by 1`),
    ).toEqual([
      { external_id: 'CSV-1', ship_remote: true },
      { external_id: 'CSV-2', ship_remote: false },
    ]);
  });

  it('splits a Taobao order to Xinjiang with cold-chain and ambient lines into an ambient and a chilled sub-order', async () => {
    const trade = taobao('新疆维吾尔自治区', MIXED);
    const order = await ingest(trade);
    expect(order).toMatchObject({ status: 'PAID', parent: null, total: { amount: '359.10' } });
    expect(order.children).toEqual([
      {
        id: expect.any(String),
        externalId: `${trade.tid_str}#ambient`,
        status: 'PAID',
        total: { amount: '99.00' },
        parent: { id: order.id },
        shippingAddress: { remote: true },
        lines: [{ productCode: 'TEA-250G', quantity: 1, lineTotal: { amount: '99.00' } }],
      },
      {
        id: expect.any(String),
        externalId: `${trade.tid_str}#chilled`,
        status: 'PAID',
        total: { amount: '260.10' },
        parent: { id: order.id },
        shippingAddress: { remote: true },
        lines: [
          { productCode: 'MILK-1L', quantity: 2, lineTotal: { amount: '259.80' } },
          { productCode: 'YOGURT', quantity: 3, lineTotal: { amount: '0.30' } },
        ],
      },
    ]);
    // The parent keeps all its lines: it is still the sale.
    expect(order.lines).toHaveLength(3);
    const events = await timeline(order.id);
    expect(events.map((e) => e.type)).toEqual(['CREATED', 'SPLIT']);
    expect(events[1]).toMatchObject({ from_status: 'PAID', to_status: 'PAID', source: 'system' });
    expect(events[1].detail).toEqual({
      rule: 'cold-chain-remote',
      children: order.children.map((c: any) => ({
        id: c.id,
        externalId: c.externalId,
        label: c.externalId.split('#')[1],
      })),
    });
  });

  it('splits a JD order to 西藏 the same way', async () => {
    const payload = sample('jd');
    payload.orderId = `JD-${++seq}`;
    payload.consigneeInfo.province = '西藏';
    payload.itemInfoList = [
      { skuId: '1', outerSkuId: 'MILK-1L', skuName: 'milk', itemTotal: '1', jdPrice: '10.00' },
      { skuId: '2', outerSkuId: 'TEA-250G', skuName: 'tea', itemTotal: '2', jdPrice: '99.00' },
    ];
    payload.orderTotalPrice = payload.orderPayment = '208.00';
    const order = await ingest(payload, 'jd-main');
    expect(order.children.map((c: any) => [c.externalId, c.total.amount])).toEqual([
      [`${payload.orderId}#ambient`, '198.00'],
      [`${payload.orderId}#chilled`, '10.00'],
    ]);
  });

  it('does not split an order to a province that is not remote, nor one whose lines are all ambient', async () => {
    expect((await ingest(taobao('浙江省', MIXED))).children).toEqual([]);
    expect((await ingest(taobao('Xinjiang', [['TEA-250G', 1, '99.00']]))).children).toEqual([]);
    expect((await ingest(taobao('Xinjiang', [['MILK-1L', 1, '129.90']]))).children).toEqual([]);
    expect(await sql(`select count(*)::int as n from order_event where type = 'SPLIT'`)).toEqual([{ n: 0 }]);
  });

  it('splits once: a re-delivery adds no sub-order, and a later platform status carries over to the sub-orders', async () => {
    const trade = taobao('甘肃省', MIXED);
    const first = await ingest(trade);
    const again = await ingest(trade);
    expect(again.children.map((c: any) => c.id)).toEqual(first.children.map((c: any) => c.id));
    const shipped = await ingest({ ...trade, status: 'WAIT_BUYER_CONFIRM_GOODS' });
    expect(shipped.status).toBe('SHIPPED');
    expect(shipped.children.map((c: any) => c.status)).toEqual(['SHIPPED', 'SHIPPED']);
    expect(await timeline(first.children[0].id)).toEqual([
      {
        type: 'STATUS_CHANGED',
        from_status: 'PAID',
        to_status: 'SHIPPED',
        source: 'taobao-main',
        detail: { platformStatus: 'WAIT_BUYER_CONFIRM_GOODS', parentId: first.id },
      },
    ]);
    expect(await sql(`select count(*)::int as n from "order" where parent_id = ?`, [first.id])).toEqual([
      { n: 2 },
    ]);
  });

  it('counts stock once: the parent holds and sells the units, sub-orders take and give back nothing', async () => {
    const order = await ingest(taobao('宁夏回族自治区', MIXED, 'WAIT_BUYER_PAY'));
    expect(order.children.map((c: any) => c.status)).toEqual(['PENDING_PAYMENT', 'PENDING_PAYMENT']);
    expect(await stock()).toEqual([
      { product_code: 'MILK-1L', on_hand: 20, reserved: 2 },
      { product_code: 'TEA-250G', on_hand: 20, reserved: 1 },
      { product_code: 'YOGURT', on_hand: 20, reserved: 3 },
    ]);
    expect((await hub.gql(MARK_PAID, { id: order.id }, keys.OPS)).errors).toBeUndefined();
    expect(await stock()).toEqual([
      { product_code: 'MILK-1L', on_hand: 18, reserved: 0 },
      { product_code: 'TEA-250G', on_hand: 19, reserved: 0 },
      { product_code: 'YOGURT', on_hand: 17, reserved: 0 },
    ]);
    const childIds = order.children.map((c: any) => c.id);
    const list = childIds.map(() => '?').join(', ');
    expect(
      await sql(`select count(*)::int as n from reservation where order_id in (${list})`, childIds),
    ).toEqual([{ n: 0 }]);
    expect(
      await sql(`select count(*)::int as n from stock_movement where order_id in (${list})`, childIds),
    ).toEqual([{ n: 0 }]);
    // Every unit on the shelf is accounted for by a movement of the parent.
    expect(
      await sql(
        `select i.product_code, 20 + coalesce(sum(m.delta), 0)::int as expected, i.on_hand from inventory_item i
         left join stock_movement m on m.product_id = i.product_id group by i.product_code, i.on_hand order by 1`,
      ),
    ).toEqual([
      { product_code: 'MILK-1L', expected: 18, on_hand: 18 },
      { product_code: 'TEA-250G', expected: 19, on_hand: 19 },
      { product_code: 'YOGURT', expected: 17, on_hand: 17 },
    ]);
    expect((await hub.gql(CANCEL, { id: order.id }, keys.OPS)).errors).toBeUndefined();
    expect((await stock()).map((s) => [s.on_hand, s.reserved])).toEqual([
      [20, 0],
      [20, 0],
      [20, 0],
    ]);
  });

  it('lists one order per sale by default, the parcels for the warehouse, or both', async () => {
    const split = await place('Hainan');
    const whole = await place('Zhejiang');
    const list = async (filter: Record<string, unknown> | null) => {
      const response = await hub.gql<{ orders: any }>(
        `query($filter: OrderFilter) { orders(filter: $filter, sort: {field: PLACED_AT, direction: ASC}) {
           totalCount edges { node { externalId } } } }`,
        { filter },
      );
      expect(response.errors).toBeUndefined();
      const names = response.data!.orders.edges.map((e: any) => e.node.externalId).sort();
      expect(response.data!.orders.totalCount).toBe(names.length);
      return names;
    };
    const sales = [split.externalId, whole.externalId].sort();
    expect(await list(null)).toEqual(sales);
    expect(await list({})).toEqual(sales);
    expect(await list({ level: 'SALES' })).toEqual(sales);
    expect(await list({ level: 'PARCELS' })).toEqual(
      [`${split.externalId}#ambient`, `${split.externalId}#chilled`, whole.externalId].sort(),
    );
    expect(await list({ level: 'ALL' })).toHaveLength(4);
    // Filters apply at the level asked for: the chilled parcel holds the milk, the ambient one the tea.
    expect(await list({ level: 'PARCELS', productCode: 'TEA-250G' })).toEqual(
      [`${split.externalId}#ambient`, whole.externalId].sort(),
    );
  });

  describe('splitOrder', () => {
    it('applies the rules by hand, answers the same sub-orders when asked again, and [] when no rule applies', async () => {
      await sql(`update split_rule set enabled = false`);
      const order = await ingest(taobao('Inner Mongolia', MIXED));
      expect(order.children).toEqual([]);
      expect(order.shippingAddress.remote).toBe(true);
      await sql(`update split_rule set enabled = true`);

      const first = await split(order.id, keys.OPS);
      expect(first.errors).toBeUndefined();
      expect(first.data!.splitOrder.map((c) => [c.externalId.split('#')[1], c.status, c.parent.id])).toEqual([
        ['ambient', 'PAID', order.id],
        ['chilled', 'PAID', order.id],
      ]);
      const second = await split(order.id, keys.OPS);
      expect(second.data!.splitOrder).toEqual(first.data!.splitOrder);
      expect((await get(order.id)).children.map((c: any) => c.id)).toEqual(
        first.data!.splitOrder.map((c) => c.id),
      );
      expect(
        (await timeline(order.id)).filter((e) => e.type === 'SPLIT').map((e) => [e.source, e.detail.rule]),
      ).toEqual([['api', 'cold-chain-remote']]);

      const local = await ingest(taobao('浙江省', MIXED));
      expect(await split(local.id, keys.OPS)).toEqual({ data: { splitOrder: [] } });
    });

    it('splits once when asked many times at once', async () => {
      await sql(`update split_rule set enabled = false`);
      const order = await ingest(taobao('Xinjiang', MIXED));
      await sql(`update split_rule set enabled = true`);
      const answers = await Promise.all([1, 2, 3, 4].map(() => split(order.id, keys.OPS)));
      expect(answers.flatMap((a) => a.errors ?? [])).toEqual([]);
      const ids = answers.map((a) => a.data!.splitOrder.map((c) => c.id));
      expect(new Set(ids.map((i) => i.join())).size).toBe(1);
      expect(ids[0]).toHaveLength(2);
      expect(await sql(`select count(*)::int as n from order_event where type = 'SPLIT'`)).toEqual([
        { n: 1 },
      ]);
    });

    it('reads the address with the current remote list, and sets the flag to match', async () => {
      await sql(`update split_rule set enabled = false`);
      const order = await ingest(taobao('Hainan', MIXED));
      await sql(`update split_rule set enabled = true`);
      // As if stored before Hainan was on the list.
      await sql(`update "order" set ship_remote = false where id = ?`, [order.id]);
      expect((await split(order.id)).data!.splitOrder).toHaveLength(2);
      expect((await get(order.id)).shippingAddress.remote).toBe(true);
    });

    it('refuses a sub-order, and an order that has shipped or ended, changing nothing', async () => {
      const order = await ingest(taobao('Qinghai', MIXED));
      const child = await split(order.children[0].id);
      expect(errorCodes(child)).toEqual(['BAD_USER_INPUT']);
      expect(child.errors![0].message).toContain(`sub-order of ${order.id}`);

      // First seen shipped or cancelled: ingestion does not split them either.
      const shipped = await ingest(taobao('Qinghai', MIXED, 'WAIT_BUYER_CONFIRM_GOODS'));
      const cancelled = await ingest(taobao('Qinghai', MIXED, 'TRADE_CLOSED_BY_TAOBAO'));
      expect([shipped.children, cancelled.children]).toEqual([[], []]);
      for (const [id, status] of [
        [shipped.id, 'SHIPPED'],
        [cancelled.id, 'CANCELLED'],
      ]) {
        const refused = await split(id);
        expect(errorCodes(refused)).toEqual(['INVALID_TRANSITION']);
        expect(refused.errors![0].message).toContain(`is ${status}: only an order that has not shipped`);
      }
      expect(await sql(`select count(*)::int as n from "order" where parent_id is not null`)).toEqual([
        { n: 2 },
      ]);
      expect(errorCodes(await split('00000000-0000-0000-0000-000000000000'))).toEqual(['NOT_FOUND']);
    });

    it('is for OPS and ADMIN, and a storefront for its own channel only', async () => {
      const order = await place('新疆');
      expect(order.children).toHaveLength(2);
      expect(errorCodes(await split(order.id, null))).toEqual(['UNAUTHENTICATED']);
      expect(errorCodes(await split(order.id, keys.ANALYST))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await split(order.id, keys.CONNECTOR))).toEqual(['FORBIDDEN']);
      const other = await split(order.id, keys.OTHER_STOREFRONT);
      expect(errorCodes(other)).toEqual(['FORBIDDEN']);
      expect(other.data).toBeNull();
      const own = await split(order.id, keys.STOREFRONT);
      expect(own.errors).toBeUndefined();
      expect(own.data!.splitOrder.map((c) => c.id)).toEqual(order.children.map((c: any) => c.id));
    });
  });

  describe('the lifecycle of a split order', () => {
    it('takes payment on the parent, ships the sub-orders, and the parent follows them to SHIPPED and DELIVERED', async () => {
      const order = await place('Xinjiang');
      const [ambient, chilled] = order.children.map((c: any) => c.id);
      expect(order.children.map((c: any) => c.status)).toEqual(['PENDING_PAYMENT', 'PENDING_PAYMENT']);

      const payChild = await hub.gql(MARK_PAID, { id: ambient }, keys.OPS);
      expect(errorCodes(payChild)).toEqual(['INVALID_TRANSITION']);
      expect(payChild.errors![0].message).toContain(`sub-order of ${order.id}: pay that order instead`);
      expect((await hub.gql(MARK_PAID, { id: order.id }, keys.STOREFRONT)).errors).toBeUndefined();
      let now = await get(order.id);
      expect([now.status, ...now.children.map((c: any) => c.status)]).toEqual(['PAID', 'PAID', 'PAID']);
      expect(await timeline(ambient)).toEqual([
        {
          type: 'STATUS_CHANGED',
          from_status: 'PENDING_PAYMENT',
          to_status: 'PAID',
          source: 'api',
          detail: { parentId: order.id },
        },
      ]);

      const packParent = await hub.gql(PACK, { id: order.id }, keys.OPS);
      expect(errorCodes(packParent)).toEqual(['INVALID_TRANSITION']);
      expect(packParent.errors![0].message).toContain('is split into sub-orders');
      expect(errorCodes(await hub.gql(SHIP, { id: order.id, tracking: `P-${seq}` }, keys.OPS))).toEqual([
        'INVALID_TRANSITION',
      ]);

      expect((await hub.gql(PACK, { id: ambient }, keys.OPS)).errors).toBeUndefined();
      expect((await hub.gql(SHIP, { id: ambient, tracking: `A-${seq}` }, keys.OPS)).errors).toBeUndefined();
      expect((await get(order.id)).status).toBe('PAID');
      // One parcel has left: the sale can no longer be cancelled.
      const cancel = await hub.gql(CANCEL, { id: order.id }, keys.OPS);
      expect(errorCodes(cancel)).toEqual(['INVALID_TRANSITION']);
      expect(cancel.errors![0].message).toContain(`shipped sub-order (${ambient})`);

      expect((await hub.gql(SHIP, { id: chilled, tracking: `C-${seq}` }, keys.OPS)).errors).toBeUndefined();
      now = await get(order.id);
      expect([now.status, ...now.children.map((c: any) => c.status)]).toEqual([
        'SHIPPED',
        'SHIPPED',
        'SHIPPED',
      ]);
      expect(now.shippedAt).not.toBeNull();
      expect((await timeline(order.id)).at(-1)).toEqual({
        type: 'STATUS_CHANGED',
        from_status: 'PAID',
        to_status: 'SHIPPED',
        source: 'system',
        detail: { reason: 'all sub-orders SHIPPED' },
      });

      const early = new Date(Date.now() - 3_600_000).toISOString();
      const late = new Date(Date.now() - 1_800_000).toISOString();
      expect((await hub.gql(TRACK, { tracking: `C-${seq}`, at: late }, keys.OPS)).errors).toBeUndefined();
      expect((await get(order.id)).status).toBe('SHIPPED');
      expect((await hub.gql(TRACK, { tracking: `A-${seq}`, at: early }, keys.OPS)).errors).toBeUndefined();
      now = await get(order.id);
      expect([now.status, ...now.children.map((c: any) => c.status)]).toEqual([
        'DELIVERED',
        'DELIVERED',
        'DELIVERED',
      ]);
      // Delivered when the last parcel was.
      expect(now.deliveredAt).toBe(late);
      // Stock was sold once, by the parent.
      expect((await stock()).map((s) => s.on_hand)).toEqual([18, 19, 20]);
    });

    it('moves the parent once when its sub-orders ship at the same moment', async () => {
      const order = await place('Ningxia');
      await hub.gql(MARK_PAID, { id: order.id }, keys.OPS);
      const shipped = await Promise.all(
        order.children.map((c: any, i: number) =>
          hub.gql(SHIP, { id: c.id, tracking: `SAME-${seq}-${i}` }, keys.OPS),
        ),
      );
      expect(shipped.flatMap((r) => r.errors ?? [])).toEqual([]);
      expect((await get(order.id)).status).toBe('SHIPPED');
      expect(
        (await timeline(order.id)).filter((e) => e.to_status === 'SHIPPED').map((e) => e.source),
      ).toEqual(['system']);
    });

    it('cancels the sub-orders with the parent, and refuses to cancel a sub-order alone', async () => {
      const order = await place('Gansu');
      const cancelChild = await hub.gql(CANCEL, { id: order.children[1].id }, keys.OPS);
      expect(errorCodes(cancelChild)).toEqual(['INVALID_TRANSITION']);
      expect(cancelChild.errors![0].message).toContain('cancel that order instead');
      expect((await hub.gql(CANCEL, { id: order.id }, keys.STOREFRONT)).errors).toBeUndefined();
      const now = await get(order.id);
      expect([now.status, ...now.children.map((c: any) => c.status)]).toEqual([
        'CANCELLED',
        'CANCELLED',
        'CANCELLED',
      ]);
      expect((await timeline(order.children[0].id)).at(-1)).toMatchObject({
        from_status: 'PENDING_PAYMENT',
        to_status: 'CANCELLED',
        detail: { reason: 'customer asked', parentId: order.id },
      });
      expect((await stock()).map((s) => s.reserved)).toEqual([0, 0, 0]);
    });

    it('cancels the sub-orders when the payment times out', async () => {
      const order = await place('Tibet');
      await sql(`update reservation set expires_at = now() - interval '1 second' where order_id = ?`, [
        order.id,
      ]);
      const logger = createLogger('silent');
      await expireHolds(RequestContext.system(hub.orm.em.fork(), logger, hub.hub.services));
      const now = await get(order.id);
      expect([now.status, ...now.children.map((c: any) => c.status)]).toEqual([
        'CANCELLED',
        'CANCELLED',
        'CANCELLED',
      ]);
      expect((await timeline(now.children[0].id)).at(-1)).toMatchObject({
        source: 'system',
        detail: { reason: 'payment timeout' },
      });
    });

    it('gives back only the parcels still on the shelf when the platform cancels a sale with a shipped sub-order', async () => {
      const trade = taobao('新疆维吾尔自治区', MIXED);
      const order = await ingest(trade);
      const chilled = order.children.find((c: any) => c.externalId.endsWith('#chilled'));
      expect(
        (await hub.gql(SHIP, { id: chilled.id, tracking: `PART-${seq}` }, keys.OPS)).errors,
      ).toBeUndefined();
      expect((await stock()).map((s) => s.on_hand)).toEqual([18, 19, 17]);

      // The platform closes the sale after the chilled parcel (milk, yogurt) has left.
      const closed = { ...trade, status: 'TRADE_CLOSED_BY_TAOBAO' };
      for (const delivery of [closed, closed]) {
        const now = await ingest(delivery);
        expect([
          now.status,
          ...now.children.map((c: any) => `${c.externalId.split('#')[1]} ${c.status}`),
        ]).toEqual(['CANCELLED', 'ambient CANCELLED', 'chilled SHIPPED']);
        // The tea goes back on the shelf, once; the shipped milk and yogurt stay sold.
        expect(await stock()).toEqual([
          { product_code: 'MILK-1L', on_hand: 18, reserved: 0 },
          { product_code: 'TEA-250G', on_hand: 20, reserved: 0 },
          { product_code: 'YOGURT', on_hand: 17, reserved: 0 },
        ]);
      }
      expect(
        await sql(
          `select product_code, sum(quantity)::int as quantity from reservation
           where order_id = ? and status = 'COMMITTED' group by product_code order by product_code`,
          [order.id],
        ),
      ).toEqual([
        { product_code: 'MILK-1L', quantity: 2 },
        { product_code: 'YOGURT', quantity: 3 },
      ]);
      // Every unit on the shelf is accounted for by a movement.
      expect(
        await sql(
          `select i.product_code from inventory_item i left join stock_movement m on m.product_id = i.product_id
           group by i.product_code, i.on_hand having 20 + coalesce(sum(m.delta), 0) <> i.on_hand`,
        ),
      ).toEqual([]);
    });
  });

  describe('rules as data', () => {
    it('skips a malformed rule and goes on with the others', async () => {
      await sql(
        `insert into split_rule (name, priority, condition, grouping) values ('broken', 1, '{"remote": "yes"}', '{"by": "weight"}')`,
      );
      expect((await ingest(taobao('Xinjiang', MIXED))).children).toHaveLength(2);
    });

    it('follows an operator rule: another grouping label set, limited to a channel, tried first', async () => {
      await sql(
        `insert into split_rule (name, priority, condition, grouping) values ('jd-everywhere', 1, '{"channels": ["jd-main"]}',
           '{"by": "coldChain", "groups": [{"label": "cold", "coldChain": true}, {"label": "dry", "coldChain": false}]}')`,
      );
      const payload = sample('jd');
      payload.orderId = `JD-${++seq}`;
      payload.itemInfoList = [
        { skuId: '1', outerSkuId: 'MILK-1L', skuName: 'milk', itemTotal: '1', jdPrice: '10.00' },
        { skuId: '2', outerSkuId: 'TEA-250G', skuName: 'tea', itemTotal: '1', jdPrice: '99.00' },
      ];
      // 北京 is not remote: only the operator's rule applies.
      const order = await ingest(payload, 'jd-main');
      expect(order.shippingAddress.remote).toBe(false);
      expect(order.children.map((c: any) => c.externalId)).toEqual([
        `${payload.orderId}#cold`,
        `${payload.orderId}#dry`,
      ]);
    });
  });
});
