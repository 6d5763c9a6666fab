import { createHmac } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, startTestHubBehindProxy, type TestHub } from './support/hub.js';
import type { TcpProxy } from './support/tcp-proxy.js';

const PLACE = `mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`;
const ORDER_FIELDS = `id status paidAt packedAt shippedAt deliveredAt
  shipments { carrier trackingNumber status events { status description occurredAt } }
  timeline { type fromStatus toStatus source }`;
const MARK_PAID = `mutation($id: ID!) { markPaid(orderId: $id) { id } }`;
const MARK_PACKED = `mutation($id: ID!) { markPacked(orderId: $id) { ${ORDER_FIELDS} } }`;
const SHIP = `mutation($id: ID!, $carrier: String!, $tracking: String!) {
  shipOrder(orderId: $id, carrier: $carrier, trackingNumber: $tracking) { ${ORDER_FIELDS} }
}`;
const RECORD = `mutation($tracking: String!, $status: ShipmentStatus!, $description: String, $at: DateTime) {
  recordShipmentEvent(trackingNumber: $tracking, status: $status, description: $description, occurredAt: $at) {
    id carrier trackingNumber status updatedAt events { status description occurredAt }
  }
}`;
const ORDER = `query($id: ID!) { order(id: $id) { ${ORDER_FIELDS} } }`;

const SF_SECRET = 'sf-carrier-secret-0123456789abcdef';
const JD_SECRET = 'jd-carrier-secret-0123456789abcdef';

describe('packing, shipping and delivering orders', () => {
  let hub: TestHub;
  let base: string;
  let seq = 0;
  const keys: Record<string, string> = {};
  const sql = <T = any>(q: string, p: unknown[] = []) => hub.orm.em.getConnection().execute<T[]>(q, p);

  const paidOrder = async () => {
    const placed = await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode: 'web',
        externalId: `SH-${++seq}`,
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '2.50' }],
      },
    });
    expect(placed.errors).toBeUndefined();
    const id = placed.data!.placeOrder.id;
    expect((await hub.gql(MARK_PAID, { id })).errors).toBeUndefined();
    return id;
  };
  const pack = (id: string, key?: string) => hub.gql<{ markPacked: any }>(MARK_PACKED, { id }, key);
  const ship = (id: string, tracking: string, carrier = 'SF', key?: string) =>
    hub.gql<{ shipOrder: any }>(SHIP, { id, carrier, tracking }, key);
  const record = (tracking: string, status: string, at?: string, description?: string, key?: string | null) =>
    hub.gql<{ recordShipmentEvent: any }>(RECORD, { tracking, status, at, description }, key);
  const order = async (id: string) => (await hub.gql<{ order: any }>(ORDER, { id })).data!.order;
  const counts = async (id: string) =>
    (
      await sql<{ events: number; tracking: number; shipments: number }>(
        `select (select count(*)::int from order_event where order_id = ?) as events,
           (select count(*)::int from shipment_event e join shipment s on s.id = e.shipment_id where s.order_id = ?) as tracking,
           (select count(*)::int from shipment where order_id = ?) as shipments`,
        [id, id, id],
      )
    )[0];
  const snapshot = async (id: string) => ({
    row: (
      await sql('select status, shipped_at, delivered_at, updated_at from "order" where id = ?', [id])
    )[0],
    ...(await counts(id)),
  });

  async function post(carrier: string, body: unknown, secret: string | null = SF_SECRET) {
    const raw = typeof body === 'string' ? body : JSON.stringify(body);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (secret)
      headers['x-hub-signature-256'] = `sha256=${createHmac('sha256', secret).update(raw).digest('hex')}`;
    const response = await fetch(`${base}/webhooks/carriers/${carrier}`, {
      method: 'POST',
      headers,
      body: raw,
    });
    return { status: response.status, body: (await response.json()) as any };
  }

  beforeAll(async () => {
    hub = await startTestHub('shipping', {
      env: { CARRIER_WEBHOOK_SECRETS: `sf=${SF_SECRET}, JD=${JD_SECRET}` },
    });
    base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    for (const role of ['OPS', 'ANALYST'] as const) {
      const created = await hub.gql<{ createApiKey: { secret: string } }>(
        `mutation($role: Role!, $label: String!) { createApiKey(role: $role, label: $label) { secret } }`,
        { role, label: role },
      );
      keys[role] = created.data!.createApiKey.secret;
    }
  });

  beforeEach(async () => {
    await sql('delete from "order"');
    await sql('delete from product');
    await seedProduct(hub.orm, 'TEA', 100);
  });

  afterAll(() => hub.close());

  it('goes PAID -> PACKED -> SHIPPED -> DELIVERED through the mutations, with timeline and timestamps', async () => {
    const id = await paidOrder();
    const packing = Date.now();
    const packed = await pack(id, keys.OPS);
    expect(packed.errors).toBeUndefined();
    expect(packed.data!.markPacked).toMatchObject({ status: 'PACKED', shippedAt: null, shipments: [] });
    // Kept for the fulfillment report's packing stage, and kept as it was once shipped.
    expect(Date.parse(packed.data!.markPacked.packedAt)).toBeGreaterThanOrEqual(packing - 1000);
    expect(packed.data!.markPacked.timeline.at(-1)).toEqual({
      type: 'STATUS_CHANGED',
      fromStatus: 'PAID',
      toStatus: 'PACKED',
      source: 'api',
    });

    const before = Date.now();
    const shipped = await ship(id, 'SF100', 'SF', keys.OPS);
    expect(shipped.errors).toBeUndefined();
    const o = shipped.data!.shipOrder;
    expect(o).toMatchObject({
      status: 'SHIPPED',
      deliveredAt: null,
      shipments: [{ carrier: 'SF', trackingNumber: 'SF100', status: 'LABEL_CREATED', events: [] }],
    });
    expect(Date.parse(o.shippedAt)).toBeGreaterThanOrEqual(before - 1000);
    expect(o.packedAt).toBe(packed.data!.markPacked.packedAt);
    expect(o.timeline.slice(-2)).toEqual([
      { type: 'STATUS_CHANGED', fromStatus: 'PACKED', toStatus: 'SHIPPED', source: 'logistics' },
      { type: 'SHIPMENT_UPDATED', fromStatus: null, toStatus: null, source: 'logistics' },
    ]);

    const transit = await record('SF100', 'IN_TRANSIT', '2026-11-11T20:00:00+08:00', 'left Hangzhou hub');
    expect(transit.errors).toBeUndefined();
    expect(transit.data!.recordShipmentEvent).toMatchObject({
      status: 'IN_TRANSIT',
      events: [
        { status: 'IN_TRANSIT', description: 'left Hangzhou hub', occurredAt: '2026-11-11T12:00:00.000Z' },
      ],
    });
    expect((await order(id)).status).toBe('SHIPPED');

    const delivered = await record('SF100', 'DELIVERED', '2026-11-12T10:30:00+08:00');
    expect(delivered.data!.recordShipmentEvent.status).toBe('DELIVERED');
    const done = await order(id);
    expect(done.status).toBe('DELIVERED');
    expect(done.deliveredAt).toBe('2026-11-12T02:30:00.000Z');
    expect(done.shippedAt).toBe(o.shippedAt);
    expect(done.timeline.slice(-2)).toEqual([
      { type: 'SHIPMENT_UPDATED', fromStatus: null, toStatus: null, source: 'logistics' },
      { type: 'STATUS_CHANGED', fromStatus: 'SHIPPED', toStatus: 'DELIVERED', source: 'logistics' },
    ]);
    // seq strictly increases along the timeline.
    const seqs = (
      await sql<{ seq: string }>('select seq from order_event where order_id = ? order by id', [id])
    ).map((r) => BigInt(r.seq));
    expect(seqs.every((s, i) => i === 0 || s > seqs[i - 1])).toBe(true);
  });

  it('ships a paid order straight away, and delivers it through the carrier webhook', async () => {
    const id = await paidOrder();
    expect((await ship(id, 'JD200', 'jd')).data!.shipOrder.status).toBe('SHIPPED');
    const picked = await post(
      'jd',
      { trackingNumber: 'JD200', status: 'PICKED_UP', occurredAt: '2026-11-11T09:00:00Z' },
      JD_SECRET,
    );
    expect(picked.status).toBe(200);
    const shipmentId = picked.body.shipmentId as string;
    expect(shipmentId).toMatch(/[0-9a-f-]{36}/);
    const delivered = await post(
      'JD',
      {
        trackingNumber: 'JD200',
        status: 'DELIVERED',
        description: 'signed by Ada',
        occurredAt: '2026-11-12T18:00:00+08:00',
      },
      JD_SECRET,
    );
    expect(delivered).toEqual({ status: 200, body: { shipmentId } });
    const done = await order(id);
    expect(done).toMatchObject({
      status: 'DELIVERED',
      deliveredAt: '2026-11-12T10:00:00.000Z',
      shipments: [
        {
          status: 'DELIVERED',
          events: [
            { status: 'PICKED_UP', description: null, occurredAt: '2026-11-11T09:00:00.000Z' },
            { status: 'DELIVERED', description: 'signed by Ada', occurredAt: '2026-11-12T10:00:00.000Z' },
          ],
        },
      ],
    });
    expect(done.timeline.map((e: any) => `${e.type}:${e.toStatus ?? ''}:${e.source}`).slice(-5)).toEqual([
      'STATUS_CHANGED:SHIPPED:logistics',
      'SHIPMENT_UPDATED::logistics',
      'SHIPMENT_UPDATED::logistics',
      'SHIPMENT_UPDATED::logistics',
      'STATUS_CHANGED:DELIVERED:logistics',
    ]);
  });

  it('refuses every other move with INVALID_TRANSITION and changes nothing', async () => {
    const id = await paidOrder();
    await pack(id);
    const packed = await snapshot(id);
    expect(errorCodes(await pack(id))).toEqual(['INVALID_TRANSITION']);
    expect(await snapshot(id)).toEqual(packed);

    await ship(id, 'SF300');
    const shipped = await snapshot(id);
    expect(errorCodes(await pack(id))).toEqual(['INVALID_TRANSITION']);
    expect(errorCodes(await ship(id, 'SF301'))).toEqual(['INVALID_TRANSITION']);
    expect(errorCodes(await hub.gql(MARK_PAID, { id }))).toEqual(['INVALID_TRANSITION']);
    expect(await snapshot(id)).toEqual(shipped);

    // Unpaid or cancelled orders can neither be packed nor shipped.
    const unpaid = (
      await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
        input: {
          channelCode: 'web',
          externalId: `SH-${++seq}`,
          customerName: 'Bo',
          shippingAddress: { line1: '2 Road' },
          lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '2.50' }],
        },
      })
    ).data!.placeOrder.id;
    const pending = await snapshot(unpaid);
    const wrong = await pack(unpaid);
    expect(errorCodes(wrong)).toEqual(['INVALID_TRANSITION']);
    expect(wrong.errors![0].message).toContain('cannot go from PENDING_PAYMENT to PACKED');
    expect(errorCodes(await ship(unpaid, 'SF302'))).toEqual(['INVALID_TRANSITION']);
    expect(await snapshot(unpaid)).toEqual(pending);
    await hub.gql(`mutation($id: ID!) { cancelOrder(orderId: $id, reason: "x") { id } }`, { id: unpaid });
    expect(errorCodes(await ship(unpaid, 'SF302'))).toEqual(['INVALID_TRANSITION']);
    expect(await sql('select 1 from shipment where tracking_number = ?', ['SF302'])).toEqual([]);
  });

  it('answers the same scan-out again unchanged, and a tracking number of another order with CONFLICT', async () => {
    const id = await paidOrder();
    const first = (await ship(id, 'SF400')).data!.shipOrder;
    const state = await snapshot(id);
    const again = await ship(id, 'SF400');
    expect(again.errors).toBeUndefined();
    expect(again.data!.shipOrder).toEqual(first);
    expect(await snapshot(id)).toEqual(state);

    const other = await paidOrder();
    const before = await snapshot(other);
    const conflict = await ship(other, 'SF400');
    expect(errorCodes(conflict)).toEqual(['CONFLICT']);
    expect(await snapshot(other)).toEqual(before);
    expect(await snapshot(id)).toEqual(state);
  });

  it('applies a repeated carrier event once, by mutation and by webhook', async () => {
    const id = await paidOrder();
    await ship(id, 'SF500');
    const event = { trackingNumber: 'SF500', status: 'IN_TRANSIT', occurredAt: '2026-11-11T20:00:00+08:00' };
    const first = await post('sf', event);
    expect(first.status).toBe(200);
    const once = await snapshot(id);
    expect(once.tracking).toBe(1);
    expect(await post('sf', event)).toEqual(first);
    const repeat = await record('SF500', 'IN_TRANSIT', '2026-11-11T12:00:00Z');
    expect(repeat.data!.recordShipmentEvent.events).toHaveLength(1);
    expect(await snapshot(id)).toEqual(once);
    const [{ updated }] = await sql(
      'select count(*)::int as updated from order_event where order_id = ? and type = ?',
      [id, 'SHIPMENT_UPDATED'],
    );
    expect(updated).toBe(2); // the scan-out and the one tracking event

    // A repeated DELIVERED does not move or stamp the order twice.
    await post('sf', { trackingNumber: 'SF500', status: 'DELIVERED', occurredAt: '2026-11-12T08:00:00Z' });
    const delivered = await snapshot(id);
    expect(delivered.row.status).toBe('DELIVERED');
    await post('sf', { trackingNumber: 'SF500', status: 'DELIVERED', occurredAt: '2026-11-12T08:00:00Z' });
    expect(await snapshot(id)).toEqual(delivered);
  });

  it('keeps an older event that arrives late in the history without overwriting a newer status', async () => {
    const id = await paidOrder();
    await ship(id, 'SF600');
    await record('SF600', 'OUT_FOR_DELIVERY', '2026-11-12T08:00:00Z');
    const [{ updated_at: updatedAt }] = await sql(
      'select updated_at from shipment where tracking_number = ?',
      ['SF600'],
    );
    const late = await record('SF600', 'IN_TRANSIT', '2026-11-11T08:00:00Z', 'arrived late');
    expect(late.errors).toBeUndefined();
    expect(late.data!.recordShipmentEvent).toMatchObject({
      status: 'OUT_FOR_DELIVERY',
      events: [
        { status: 'IN_TRANSIT', occurredAt: '2026-11-11T08:00:00.000Z' },
        { status: 'OUT_FOR_DELIVERY', occurredAt: '2026-11-12T08:00:00.000Z' },
      ],
    });
    const [row] = await sql('select status, updated_at from shipment where tracking_number = ?', ['SF600']);
    expect(row).toEqual({ status: 'OUT_FOR_DELIVERY', updated_at: updatedAt });
  });

  it('answers an unknown tracking number with NOT_FOUND and 404, storing nothing', async () => {
    const missing = await record('NOPE-1', 'IN_TRANSIT');
    expect(errorCodes(missing)).toEqual(['NOT_FOUND']);
    const webhook = await post('sf', { trackingNumber: 'NOPE-1', status: 'IN_TRANSIT' });
    expect(webhook.status).toBe(404);
    expect(webhook.body.error).toContain('NOPE-1');
    // Another carrier's parcel is not found through this carrier's door either.
    const id = await paidOrder();
    await ship(id, 'JD700', 'jd');
    expect((await post('sf', { trackingNumber: 'JD700', status: 'DELIVERED' })).status).toBe(404);
    expect((await snapshot(id)).tracking).toBe(0);
    expect((await snapshot(id)).row.status).toBe('SHIPPED');
  });

  it('refuses a bad or missing signature, or an unknown carrier, with 401 and stores nothing', async () => {
    const id = await paidOrder();
    await ship(id, 'SF800');
    const before = await snapshot(id);
    const event = { trackingNumber: 'SF800', status: 'DELIVERED' };
    expect((await post('sf', event, null)).status).toBe(401);
    expect((await post('sf', event, 'wrong-secret')).status).toBe(401);
    expect((await post('sf', event, JD_SECRET)).status).toBe(401);
    expect((await post('ems', event, SF_SECRET)).status).toBe(401);
    expect((await post('sf', '{not json', 'wrong-secret')).status).toBe(401);
    expect(await snapshot(id)).toEqual(before);
  });

  it('answers malformed JSON or bad fields with 400 naming the field', async () => {
    const id = await paidOrder();
    await ship(id, 'SF900');
    const before = await snapshot(id);
    const bad = await post('sf', '{not json');
    expect(bad.status).toBe(400);
    expect(bad.body.error).toMatch(/JSON/);
    for (const [body, field] of [
      [{ status: 'IN_TRANSIT' }, 'trackingNumber'],
      [{ trackingNumber: 'SF900', status: 'LOST' }, 'status'],
      [{ trackingNumber: 'SF900', status: 'IN_TRANSIT', occurredAt: 'yesterday' }, 'occurredAt'],
      [{ trackingNumber: 'SF900', status: 'IN_TRANSIT', occurredAt: '2026-11-11T20:00:00' }, 'occurredAt'],
      [{ trackingNumber: 'SF900', status: 'IN_TRANSIT', description: 7 }, 'description'],
      [[1, 2], 'body'],
    ] as const) {
      const answer = await post('sf', body);
      expect(answer.status, JSON.stringify(body)).toBe(400);
      expect(answer.body.field).toBe(field);
      expect(answer.body.error).toContain(`"${field}"`);
    }
    expect(await snapshot(id)).toEqual(before);
  });

  it('lets OPS and ADMIN ship, and refuses ANALYST with FORBIDDEN', async () => {
    const id = await paidOrder();
    const before = await snapshot(id);
    expect(errorCodes(await pack(id, keys.ANALYST))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await ship(id, 'SF1000', 'SF', keys.ANALYST))).toEqual(['FORBIDDEN']);
    expect(await snapshot(id)).toEqual(before);
    expect((await ship(id, 'SF1000', 'SF', keys.OPS)).data!.shipOrder.status).toBe('SHIPPED');
    const tracked = await snapshot(id);
    expect(errorCodes(await record('SF1000', 'DELIVERED', undefined, undefined, keys.ANALYST))).toEqual([
      'FORBIDDEN',
    ]);
    expect(errorCodes(await record('SF1000', 'DELIVERED', undefined, undefined, null))).toEqual([
      'UNAUTHENTICATED',
    ]);
    expect(await snapshot(id)).toEqual(tracked);
    const delivered = await record('SF1000', 'DELIVERED'); // ADMIN, occurredAt defaults to now
    expect(delivered.data!.recordShipmentEvent.status).toBe('DELIVERED');
    expect((await order(id)).status).toBe('DELIVERED');
  });

  it('reads CARRIER_WEBHOOK_SECRETS as code=secret pairs and names a bad entry', () => {
    const secrets = loadConfig({
      CARRIER_WEBHOOK_SECRETS: `sf=${SF_SECRET}, JD=${JD_SECRET}`,
    }).carrierWebhookSecrets;
    expect([...secrets]).toEqual([
      ['sf', SF_SECRET],
      ['jd', JD_SECRET],
    ]);
    expect(loadConfig({}).carrierWebhookSecrets.size).toBe(0);
    for (const [value, problem] of [
      ['sf', 'carrier "sf" has no secret'],
      ['sf=', 'carrier "sf" has no secret'],
      [`sf=${SF_SECRET},sf=${SF_SECRET}`, 'carrier "sf" is listed twice'],
      ['s f=a', '"s f" is not a carrier code'],
    ]) {
      expect(() => loadConfig({ CARRIER_WEBHOOK_SECRETS: value })).toThrow(ConfigError);
      expect(() => loadConfig({ CARRIER_WEBHOOK_SECRETS: value })).toThrow(
        `CARRIER_WEBHOOK_SECRETS: ${problem}`,
      );
    }
  });
});

describe('the carrier webhook while the database is away', () => {
  let proxy: TcpProxy;
  let hub: TestHub;

  beforeAll(async () => {
    ({ hub, proxy } = await startTestHubBehindProxy('shipping-outage', {
      env: { CARRIER_WEBHOOK_SECRETS: `sf=${SF_SECRET}` },
    }));
  });

  afterAll(async () => {
    await hub.close();
    await proxy.close();
  });

  it('answers 503 so the carrier retries, and the retry is applied once', async () => {
    const base = hub.url.replace(/\/graphql$/, '');
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 10);
    const placed = await hub.gql<{ placeOrder: { id: string } }>(PLACE, {
      input: {
        channelCode: 'web',
        externalId: 'OUT-1',
        customerName: 'Ada',
        shippingAddress: { line1: '1 Road' },
        lines: [{ productCode: 'TEA', quantity: 1, unitPrice: '2.50' }],
      },
    });
    const id = placed.data!.placeOrder.id;
    await hub.gql(MARK_PAID, { id });
    await hub.gql(SHIP, { id, carrier: 'sf', tracking: 'SF-OUT' });
    const raw = JSON.stringify({
      trackingNumber: 'SF-OUT',
      status: 'DELIVERED',
      occurredAt: '2026-11-12T08:00:00Z',
    });
    const send = async () =>
      (
        await fetch(`${base}/webhooks/carriers/sf`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'x-hub-signature-256': `sha256=${createHmac('sha256', SF_SECRET).update(raw).digest('hex')}`,
          },
          body: raw,
        })
      ).status;

    await proxy.cut();
    expect(await send()).toBe(503);
    await proxy.restore();
    // The carrier retries at once; connections the cut broke are dropped from the pool on the way.
    let status = 0;
    for (let attempt = 0; attempt < 10 && status !== 200; attempt++) status = await send();
    expect(status).toBe(200);
    expect(await send()).toBe(200);
    const sql = hub.orm.em.getConnection();
    expect(await sql.execute('select status from shipment_event')).toEqual([{ status: 'DELIVERED' }]);
    expect(await sql.execute('select status from "order" where id = ?', [id])).toEqual([
      { status: 'DELIVERED' },
    ]);
  });
});
