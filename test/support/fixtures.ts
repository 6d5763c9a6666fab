import type { MikroORM } from '@mikro-orm/postgresql';
import {
  Address,
  Channel,
  InventoryItem,
  Order,
  OrderEvent,
  OrderLine,
  Product,
  Reservation,
  Shipment,
  ShipmentEvent,
} from '../../entities/index.js';
import {
  IngestionMode,
  OrderOrigin,
  OrderStatus,
  Platform,
  ReservationStatus,
  ShipmentStatus,
} from '../../common/enums.js';

/**
 * Writes rows straight through the ORM, so read-side tests do not depend on the
 * write paths (ingestion, lifecycle) that have their own tests.
 */
export async function seedChannel(
  orm: MikroORM,
  code: string,
  platform: Platform = Platform.TAOBAO,
  extra: Partial<Channel> = {},
): Promise<Channel> {
  const em = orm.em.fork();
  const channel = em.create(Channel, {
    code,
    platform,
    name: code,
    ingestionModes: [IngestionMode.WEBHOOK],
    ...extra,
  });
  await em.flush();
  return channel;
}

export async function seedProduct(orm: MikroORM, productCode: string, onHand = 10, safetyStock = 0) {
  const em = orm.em.fork();
  const product = em.create(Product, { productCode, name: `Product ${productCode}` });
  em.create(InventoryItem, { product, productCode, onHand, safetyStock });
  await em.flush();
  return product;
}

export interface SeedOrder {
  channel: Channel;
  externalId: string;
  status?: OrderStatus;
  customerName?: string;
  placedAt?: Date;
  lines?: { productCode: string; quantity: number; unitPrice: string; product?: Product | null }[];
  parent?: Order | null;
  province?: string;
}

/** An order with its lines, a shipment with two tracking events, two timeline events and a hold. */
export async function seedOrder(orm: MikroORM, input: SeedOrder): Promise<Order> {
  const em = orm.em.fork();
  const lines = input.lines ?? [{ productCode: 'SKU-UNKNOWN', quantity: 1, unitPrice: '10.00' }];
  const total = lines
    .reduce((sum, l) => sum + BigInt(Math.round(Number(l.unitPrice) * 100)) * BigInt(l.quantity), 0n)
    .toString();
  const address = Object.assign(new Address(), {
    name: input.customerName ?? 'Buyer',
    line1: '1 Test Road',
    province: input.province ?? '浙江省',
    city: '杭州市',
  });
  const order = em.create(Order, {
    channel: em.getReference(Channel, input.channel.id),
    externalId: input.externalId,
    status: input.status ?? OrderStatus.PAID,
    customerName: input.customerName ?? 'Buyer',
    shippingAddress: address,
    totalAmount: `${total.slice(0, -2) || '0'}.${total.slice(-2).padStart(2, '0')}`,
    placedAt: input.placedAt ?? new Date(),
    parent: input.parent ? em.getReference(Order, input.parent.id) : null,
    origin: OrderOrigin.WEBHOOK,
    raw: { source: 'fixture', externalId: input.externalId },
  });
  lines.forEach((l, i) =>
    em.create(OrderLine, {
      order,
      lineNo: i + 1,
      productCode: l.productCode,
      product: l.product ? em.getReference(Product, l.product.id) : null,
      quantity: l.quantity,
      unitPrice: l.unitPrice,
      lineTotal: (Number(l.unitPrice) * l.quantity).toFixed(2),
    }),
  );
  const shipment = em.create(Shipment, {
    order,
    carrier: 'SF',
    trackingNumber: `SF-${input.channel.code}-${input.externalId}`,
    status: ShipmentStatus.IN_TRANSIT,
  });
  em.create(ShipmentEvent, {
    shipment,
    status: ShipmentStatus.PICKED_UP,
    occurredAt: new Date(Date.now() - 60_000),
  });
  em.create(ShipmentEvent, { shipment, status: ShipmentStatus.IN_TRANSIT, occurredAt: new Date() });
  await em.flush();
  em.create(OrderEvent, {
    orderId: order.id,
    channelCode: input.channel.code,
    type: 'CREATED',
    toStatus: OrderStatus.PENDING_PAYMENT,
    source: input.channel.code,
  });
  em.create(OrderEvent, {
    orderId: order.id,
    channelCode: input.channel.code,
    type: 'STATUS_CHANGED',
    fromStatus: OrderStatus.PENDING_PAYMENT,
    toStatus: order.status,
    source: input.channel.code,
  });
  const firstProduct = lines.find((l) => l.product)?.product;
  if (firstProduct) {
    em.create(Reservation, {
      product: em.getReference(Product, firstProduct.id),
      productCode: firstProduct.productCode,
      order,
      quantity: 1,
      status: ReservationStatus.COMMITTED,
      expiresAt: new Date(Date.now() + 900_000),
      channelCode: input.channel.code,
    });
  }
  await em.flush();
  return order;
}
