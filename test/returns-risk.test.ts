import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { storefrontOrder, storefrontRefund } from './support/after-sale.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';

// Refunds feed the serial-returner rule (services/risk.ts) in the transaction that stores them: a buyer with
// half of four or more recent orders sent back is flagged when the refund that tips it arrives, also when the
// refund came before its order and waited for it.

const ORDER = `mutation ($p: JSON!) { ingestChannelOrder(channelCode: "shop", payload: $p) { id } }`;
const REFUND = `mutation ($p: JSON!) { ingestChannelRefund(channelCode: "shop", payload: $p) { id } }`;
const FLAGS = `query ($id: ID!) { order(id: $id) { riskFlags { kind reason } } }`;

describe('refunds and the serial-returner rule', () => {
  let hub: TestHub;
  let n = 0;

  beforeAll(async () => {
    hub = await startTestHub('returns-risk');
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedProduct(hub.orm, 'RR-MUG', 100);
  });
  afterAll(() => hub?.close());

  /** An order of one buyer, at the buyer's own address (no phone): buyers apart, no brushing ring. */
  const order = async (externalId: string, buyer = 'Grace Hopper') => {
    const payload = storefrontOrder(externalId, [{ productCode: 'RR-MUG', quantity: 1, unitPrice: '20.00' }]);
    const result = await hub.gql<{ ingestChannelOrder: { id: string } }>(ORDER, {
      p: {
        ...payload,
        customerName: buyer,
        shippingAddress: { ...payload.shippingAddress, name: buyer, line1: `${buyer} House` },
      },
    });
    expect(result.errors).toBeUndefined();
    return result.data!.ingestChannelOrder.id;
  };
  const refund = async (externalId: string) => {
    const result = await hub.gql(REFUND, {
      p: storefrontRefund(`RR-${++n}`, externalId, {
        kind: 'REFUND_ONLY',
        status: 'REQUESTED',
        lines: [{ productCode: 'RR-MUG', quantity: 1 }],
        amount: '20.00',
      }),
    });
    expect(result.errors).toBeUndefined();
  };
  const flags = async (orderId: string) =>
    (
      await hub.gql<{ order: { riskFlags: { kind: string }[] } }>(FLAGS, { id: orderId })
    ).data!.order.riskFlags.map((f) => f.kind);

  it('flags the order whose refund makes half of the buyer’s four orders returned, not before', async () => {
    const ids = [];
    for (let i = 1; i <= 4; i++) ids.push(await order(`RR-A-${i}`, 'Ada Lovelace'));
    await refund('RR-A-1');
    expect(await flags(ids[0])).toEqual([]);
    await refund('RR-A-2');
    expect(await flags(ids[1])).toEqual(['SERIAL_RETURNER']);
  });

  it('flags an order when a refund that came before it is attached', async () => {
    const ids = [];
    for (let i = 1; i <= 3; i++) ids.push(await order(`RR-B-${i}`, 'Alan Turing'));
    await refund('RR-B-1');
    await refund('RR-B-4');
    expect(await flags(ids[0])).toEqual([]);
    const late = await order('RR-B-4', 'Alan Turing');
    expect(await flags(late)).toEqual(['SERIAL_RETURNER']);
  });
});
