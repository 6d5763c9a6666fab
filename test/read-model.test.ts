import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EntityManager } from '@mikro-orm/postgresql';
import { Channel, Order, OrderLine, Product } from '../entities/index.js';
import { IngestionMode, Platform } from '../common/enums.js';
import { createLoaders } from '../services/loaders.js';
import { readEntityRows, type OrderRow } from '../services/read-model.js';
import { seedChannel, seedOrder, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';

/** Every property of a plain row against the entity's: a many-to-one as its id, an embeddable by its fields. */
function expectRowLikeEntity(row: object, entity: object) {
  for (const [key, value] of Object.entries(row)) {
    const expected = (entity as Record<string, unknown>)[key];
    if (value !== null && typeof value === 'object' && !(value instanceof Date) && !Array.isArray(value)) {
      if ('id' in value && Object.keys(value).length === 1) {
        expect((expected as { id: string }).id, key).toBe((value as { id: string }).id);
      } else {
        expect({ ...(expected as object) }, key).toEqual(value);
      }
    } else {
      expect(value, key).toEqual(expected);
    }
  }
}

describe('the read side’s plain rows', () => {
  let hub: TestHub;
  let order: Order;

  beforeAll(async () => {
    hub = await startTestHub('read-model');
    const channel = await seedChannel(hub.orm, 'tmall', Platform.JD, {
      webhookSecret: 'not-for-rows',
      ingestionModes: [IngestionMode.WEBHOOK, IngestionMode.POLL],
      lastHeartbeatAt: new Date('2026-03-01T08:09:10.123Z'),
    });
    const tea = await seedProduct(hub.orm, 'TEA-1');
    order = await seedOrder(hub.orm, {
      channel,
      externalId: 'R1',
      placedAt: new Date('2026-03-02T01:02:03.456Z'),
      lines: [
        { productCode: 'TEA-1', quantity: 2, unitPrice: '12.50', product: tea },
        { productCode: 'GHOST', quantity: 1, unitPrice: '0.10' },
      ],
    });
  });

  afterAll(() => hub.close());

  const fork = () => hub.orm.em.fork() as EntityManager;

  it('shapes an order as its entity: times as Date, money as Decimal strings, the address nested', async () => {
    const [row] = await readEntityRows<OrderRow>(fork(), Order, 'id', [order.id]);
    const entity = await fork().findOneOrFail(Order, order.id);
    expectRowLikeEntity(row, entity);
    expect(row.placedAt).toEqual(new Date('2026-03-02T01:02:03.456Z'));
    expect(typeof row.totalAmount).toBe('string');
    expect(row.shippingAddress.line1).toBe(entity.shippingAddress.line1);
    expect(row.parent).toBeNull();
    expect('raw' in row).toBe(false);
  });

  it('gives lines in line order, products and channels as their entities, and never the webhook secret', async () => {
    const em = fork();
    const loaders = createLoaders(em);
    const lines = await loaders.linesByOrderId.load(order.id);
    const entities = await fork().find(OrderLine, { order: order.id }, { orderBy: { lineNo: 'asc' } });
    expect(lines.map((l) => l.productCode)).toEqual(['TEA-1', 'GHOST']);
    lines.forEach((line, i) => expectRowLikeEntity(line, entities[i]));
    expect(lines[1].product).toBeNull();

    const product = await loaders.productById.load(lines[0].product!.id);
    expectRowLikeEntity(product!, await fork().findOneOrFail(Product, lines[0].product!.id));

    const channel = await loaders.channelById.load(order.channel.id);
    expectRowLikeEntity(channel!, await fork().findOneOrFail(Channel, order.channel.id));
    expect(channel!.ingestionModes).toEqual([IngestionMode.WEBHOOK, IngestionMode.POLL]);
    expect(channel!.lastHeartbeatAt).toEqual(new Date('2026-03-01T08:09:10.123Z'));
    expect('webhookSecret' in channel!).toBe(false);
    // Rows are not entities: nothing of them is in the request's identity map.
    expect(em.getUnitOfWork().getIdentityMap().values()).toHaveLength(0);
  });
});
