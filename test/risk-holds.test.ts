import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { Channel, Order } from '../entities/index.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type IssuedKey, type TestHub } from './support/hub.js';
import { storefrontPayload, type BuyerAddress } from './support/risk-fixtures.js';

const INGEST = `mutation($channelCode: String!, $payload: JSON!) {
  ingestChannelOrder(channelCode: $channelCode, payload: $payload) { id }
}`;
const ORDER = `query($id: ID!) {
  order(id: $id) {
    status heldAt heldReason heldBy
    riskFlags { id kind resolved resolvedAt resolvedBy resolutionNote }
    timeline { type fromStatus toStatus source }
  }
}`;
const HOLD = `mutation($id: ID!, $reason: String!) { holdOrder(orderId: $id, reason: $reason) { id status heldAt heldReason } }`;
const RELEASE = `mutation($id: ID!) { releaseOrder(orderId: $id) { id status heldAt heldReason } }`;
const SHIP = `mutation($id: ID!, $tracking: String!) {
  shipOrder(orderId: $id, carrier: "SF", trackingNumber: $tracking) { status }
}`;
const RESOLVE = `mutation($id: ID!, $note: String!) {
  resolveRiskFlag(flagId: $id, note: $note) { id orderId kind resolved resolvedAt resolvedBy resolutionNote }
}`;
const FLAGS = `query($unresolvedOnly: Boolean) { riskFlags(unresolvedOnly: $unresolvedOnly) { id orderId kind } }`;

describe('holding risky orders from shipping, and resolving their flags', () => {
  let hub: TestHub;
  let seq = 0;
  let ops: IssuedKey;
  const keys: Record<string, string> = {};
  /** A brushing ring of six on `channel`: every order flagged. */
  const ring: string[] = [];

  const buyer = (line1: string): BuyerAddress => ({
    name: '刘一',
    phone: '139****8888',
    province: '上海市',
    city: '上海市',
    district: '浦东新区',
    line1,
  });
  async function order(channel: string, who: BuyerAddress): Promise<string> {
    const response = await hub.gql<{ ingestChannelOrder: { id: string } }>(INGEST, {
      channelCode: channel,
      payload: storefrontPayload(`H-${++seq}`, who, [{ productCode: 'TEA', unitPrice: '39.00' }]),
    });
    expect(errorCodes(response)).toEqual([]);
    return response.data!.ingestChannelOrder.id;
  }
  const read = async (id: string, key?: string) =>
    (await hub.gql<{ order: any }>(ORDER, { id }, key)).data!.order;

  beforeAll(async () => {
    hub = await startTestHub('risk-holds');
    await seedChannel(hub.orm, 'web', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'other', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'TEA', 1000);
    ops = await hub.issueApiKey('OPS');
    keys.analyst = await hub.apiKey('ANALYST');
    keys.web = await hub.apiKey('STOREFRONT', 'web');
    keys.other = await hub.apiKey('STOREFRONT', 'other');
    keys.connector = await hub.apiKey('CONNECTOR', 'web');
    for (let i = 0; i < 6; i++) ring.push(await order('web', buyer('张杨路 500 号')));
    await order('other', buyer('世纪大道 1 号'));
  });

  afterAll(() => hub?.close());

  it('holds a flagged order: shipOrder answers ORDER_HELD and the status stays; released, it ships', async () => {
    const [id] = ring;
    const held = await hub.gql<{ holdOrder: any }>(
      HOLD,
      { id, reason: 'brushing ring, checking' },
      ops.secret,
    );
    expect(errorCodes(held)).toEqual([]);
    expect(held.data!.holdOrder).toMatchObject({ id, status: 'PAID', heldReason: 'brushing ring, checking' });
    expect(held.data!.holdOrder.heldAt).toBeTruthy();

    const refused = await hub.gql(SHIP, { id, tracking: 'SF-HELD-1' }, ops.secret);
    expect(refused.errors?.[0].extensions).toMatchObject({
      code: 'ORDER_HELD',
      orderId: id,
      reason: 'brushing ring, checking',
    });
    expect(refused.errors?.[0].message).toMatch(/releaseOrder/);
    expect(await read(id)).toMatchObject({ status: 'PAID', heldBy: ops.id });

    // Holding again changes nothing: the first reason stays, and no second entry.
    await hub.gql(HOLD, { id, reason: 'again' }, ops.secret);
    const released = await hub.gql<{ releaseOrder: any }>(RELEASE, { id }, ops.secret);
    expect(released.data!.releaseOrder).toMatchObject({ status: 'PAID', heldAt: null, heldReason: null });
    const shipped = await hub.gql<{ shipOrder: any }>(SHIP, { id, tracking: 'SF-HELD-1' }, ops.secret);
    expect(errorCodes(shipped)).toEqual([]);
    expect(shipped.data!.shipOrder.status).toBe('SHIPPED');

    const timeline = (await read(id)).timeline.map((e: any) => [e.type, e.fromStatus, e.toStatus, e.source]);
    expect(timeline).toEqual([
      ['CREATED', null, 'PAID', 'web'],
      ['HELD', 'PAID', 'PAID', 'api'],
      ['RELEASED', 'PAID', 'PAID', 'api'],
      ['STATUS_CHANGED', 'PAID', 'SHIPPED', 'logistics'],
      ['SHIPMENT_UPDATED', null, null, 'logistics'],
    ]);
  });

  it('refuses to ship a parcel of a held sale, naming the sale', async () => {
    const sale = ring[4];
    expect(errorCodes(await hub.gql(HOLD, { id: sale, reason: 'ring' }, ops.secret))).toEqual([]);
    const [channel] = await hub.orm.em.fork().find(Channel, { code: 'web' });
    const parcel = await seedOrder(hub.orm, {
      channel,
      externalId: 'H-PARCEL-1',
      parent: await hub.orm.em.fork().findOneOrFail(Order, { id: sale }),
    });
    const refused = await hub.gql(SHIP, { id: parcel.id, tracking: 'SF-PARCEL-1' }, ops.secret);
    expect(refused.errors?.[0].extensions).toMatchObject({
      code: 'ORDER_HELD',
      orderId: sale,
      reason: 'ring',
    });
    expect(refused.errors?.[0].message).toContain(`belongs to order ${sale}`);
  });

  it('does not hold an order that has shipped, nor take an empty reason', async () => {
    const shippedOne = await hub.gql(HOLD, { id: ring[0], reason: 'late' }, ops.secret);
    expect(errorCodes(shippedOne)).toEqual(['CONFLICT']);
    const empty = await hub.gql(HOLD, { id: ring[1], reason: '  ' }, ops.secret);
    expect(empty.errors?.[0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'reason' });
  });

  it('resolves a flag with who, when and a note; a resolved flag leaves the unresolved list', async () => {
    const [flag] = (await read(ring[2])).riskFlags;
    expect(flag).toMatchObject({ kind: 'BRUSHING', resolved: false, resolvedAt: null });
    const resolved = await hub.gql<{ resolveRiskFlag: any }>(
      RESOLVE,
      { id: flag.id, note: 'Regular customer: an office reception' },
      ops.secret,
    );
    expect(resolved.data!.resolveRiskFlag).toMatchObject({
      id: flag.id,
      orderId: ring[2],
      resolved: true,
      resolvedBy: ops.id,
      resolutionNote: 'Regular customer: an office reception',
    });
    expect(Date.parse(resolved.data!.resolveRiskFlag.resolvedAt)).toBeLessThanOrEqual(Date.now());
    const open = (await hub.gql<{ riskFlags: any[] }>(FLAGS, { unresolvedOnly: true })).data!.riskFlags;
    expect(open.map((f) => f.orderId).sort()).toEqual(ring.filter((id) => id !== ring[2]).sort());
    const all = (await hub.gql<{ riskFlags: any[] }>(FLAGS, { unresolvedOnly: false })).data!.riskFlags;
    expect(all).toHaveLength(6);

    expect(errorCodes(await hub.gql(RESOLVE, { id: flag.id, note: '' }, ops.secret))).toEqual([
      'BAD_USER_INPUT',
    ]);
    const unknown = await hub.gql(
      RESOLVE,
      { id: '00000000-0000-4000-8000-000000000000', note: 'x' },
      ops.secret,
    );
    expect(errorCodes(unknown)).toEqual(['NOT_FOUND']);
  });

  it('shows flags to whoever reads the order: a channel key its own channel only; only OPS and ADMIN hold or resolve', async () => {
    expect((await read(ring[3], keys.web)).riskFlags).toHaveLength(1);
    expect((await read(ring[3], keys.analyst)).riskFlags).toHaveLength(1);
    expect(errorCodes(await hub.gql(ORDER, { id: ring[3] }, keys.other))).toEqual(['FORBIDDEN']);
    const otherFlags = await hub.gql<{ riskFlags: any[] }>(FLAGS, { unresolvedOnly: false }, keys.other);
    expect(otherFlags.data!.riskFlags).toEqual([]);
    const webFlags = await hub.gql<{ riskFlags: any[] }>(FLAGS, { unresolvedOnly: false }, keys.web);
    expect(webFlags.data!.riskFlags).toHaveLength(6);
    expect(errorCodes(await hub.gql(FLAGS, {}, keys.connector))).toEqual(['FORBIDDEN']);

    const [flag] = (await read(ring[3])).riskFlags;
    for (const key of [keys.web, keys.analyst]) {
      expect(errorCodes(await hub.gql(HOLD, { id: ring[3], reason: 'x' }, key))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await hub.gql(RELEASE, { id: ring[3] }, key))).toEqual(['FORBIDDEN']);
      expect(errorCodes(await hub.gql(RESOLVE, { id: flag.id, note: 'x' }, key))).toEqual(['FORBIDDEN']);
    }
    expect(errorCodes(await hub.gql(`{ riskRules { kind } }`, {}, keys.web))).toEqual(['FORBIDDEN']);
    expect(errorCodes(await hub.gql(`{ riskRules { kind } }`, {}, keys.analyst))).toEqual([]);
  });
});
