import { Decimal } from 'decimal.js';
import type { CanonicalOrder } from '../connectors/canonical.js';
import { OrderEventType, OrderOrigin, OrderStatus } from '../common/enums.js';
import {
  BadUserInputError,
  ChannelClosedError,
  ConflictError,
  InsufficientStockError,
  NotFoundError,
} from '../common/errors.js';
import { Order, Product } from '../entities/index.js';
import { assertChannelAccess } from './access.js';
import { requireChannelByCode } from './channels.js';
import type { RequestContext } from './context.js';
import { validateCanonical } from './order-gateway.js';
import { insertLines, insertOrders, resolveLines, stockLines } from './order-rows.js';
import { recordOrderEvents } from './order-transitions.js';
import { evaluateOrderRisk } from './risk.js';
import { splitOrders } from './splitting.js';
import { evaluateStockLevels } from './stock-levels.js';
import { holdMany } from './stock.js';

export interface PlaceOrderInput {
  channelCode: string;
  externalId: string;
  customerName: string;
  shippingAddress: {
    name?: string | null;
    phone?: string | null;
    province?: string | null;
    city?: string | null;
    district?: string | null;
    line1: string;
    postalCode?: string | null;
    country: string;
  };
  lines: { productCode: string; quantity: number; unitPrice: string }[];
  currencyCode: string;
  /** For the customer's notices (SMS); a masked one is stored and skipped. */
  contactPhone?: string | null;
  /** For the customer's notices (WeChat subscribe messages). */
  wechatOpenId?: string | null;
}

const MAX_LINE_QUANTITY = 100_000;

/**
 * An order from the merchant's own storefront or the API: unlike a marketplace
 * sale it is only taken when every line can be held, all or nothing, on an open
 * channel; otherwise it fails with INSUFFICIENT_STOCK or CHANNEL_CLOSED and
 * stores nothing. Placing the same (channel, externalId) again answers the
 * order already placed.
 */
export async function placeOrder(ctx: RequestContext, input: PlaceOrderInput): Promise<Order> {
  assertChannelAccess(ctx, input.channelCode);
  const order = canonicalFromInput(input);
  validateCanonical(order);
  const channel = await requireChannelByCode(ctx.em, input.channelCode);
  const existing = await ctx.em.findOne(Order, { channel: channel.id, externalId: order.externalId });
  if (existing) return existing;
  if (!channel.salesOpen) throw new ChannelClosedError(channel.code);

  const codes = [...new Set(order.lines.map((l) => l.productCode!))];
  const products = await ctx.em.find(Product, { productCode: { $in: codes } });
  for (const code of codes) {
    const product = products.find((p) => p.productCode === code);
    if (!product) throw new NotFoundError('Product', code);
    if (product.closedOnChannels.includes(channel.code)) throw new ChannelClosedError(channel.code, code);
  }

  let held = 0;
  try {
    const orderId = await ctx.em.transactional(async (tx) => {
      const [lines] = await resolveLines(tx, channel, [order]);
      const inserted = await insertOrders(
        tx,
        channel,
        [{ order, raw: null }],
        OrderOrigin.PLACED,
        ctx.hub.settings,
      );
      const created = inserted.get(order.externalId);
      if (!created)
        throw new ConflictError(`Order "${order.externalId}" is being placed right now; ask again.`);
      await insertLines(tx, [{ orderId: created.id, lines }]);
      await recordOrderEvents(tx, OrderEventType.CREATED, [
        {
          orderId: created.id,
          channelCode: channel.code,
          status: OrderStatus.PENDING_PAYMENT,
          source: 'api',
          detail: null,
        },
      ]);
      await splitOrders(
        ctx,
        tx,
        [
          {
            id: created.id,
            externalId: order.externalId,
            channelCode: channel.code,
            status: created.status,
            remote: created.remote,
          },
        ],
        'system',
      );
      await evaluateOrderRisk(tx, [created.id]);
      const wanted = stockLines(lines).map((l) => ({ ...l, orderId: created.id }));
      const short = await holdMany(tx, channel.code, wanted, ctx.hub.settings.reservationTtlSeconds);
      if (short.length)
        throw new InsufficientStockError(short[0].productCode, short[0].quantity, short[0].available);
      held = wanted.length;
      await evaluateStockLevels(
        tx,
        wanted.map((l) => l.productId),
        ctx.hub.settings,
      );
      return created.id;
    });
    // Counted once committed: the order's holds stand together or not at all.
    ctx.hub.metrics.held('order', 'taken', held);
    return await ctx.em.findOneOrFail(Order, { id: orderId });
  } catch (err) {
    if (err instanceof InsufficientStockError) ctx.hub.metrics.held('order', 'refused');
    if (err instanceof ConflictError) {
      const placed = await ctx.em.findOne(Order, { channel: channel.id, externalId: order.externalId });
      if (placed) return placed;
    }
    throw err;
  }
}

function canonicalFromInput(input: PlaceOrderInput): CanonicalOrder {
  if (!input.customerName.trim())
    throw new BadUserInputError('customerName must not be empty.', 'customerName');
  if (!input.shippingAddress.line1.trim()) {
    throw new BadUserInputError('shippingAddress.line1 must not be empty.', 'shippingAddress.line1');
  }
  if (!/^[A-Z]{2}$/.test(input.shippingAddress.country)) {
    throw new BadUserInputError(
      'shippingAddress.country must be a two-letter ISO code such as "CN".',
      'country',
    );
  }
  if (!/^[A-Z]{3}$/.test(input.currencyCode)) {
    throw new BadUserInputError(
      'currencyCode must be a three-letter ISO code such as "CNY".',
      'currencyCode',
    );
  }
  const lines = input.lines.map((line, i) => {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0 || line.quantity > MAX_LINE_QUANTITY) {
      throw new BadUserInputError(
        `lines[${i}].quantity must be a whole number from 1 to ${MAX_LINE_QUANTITY}.`,
        `lines[${i}].quantity`,
      );
    }
    const unit = new Decimal(line.unitPrice);
    if (unit.isNegative() || unit.decimalPlaces() > 2) {
      throw new BadUserInputError(
        `lines[${i}].unitPrice must be zero or more with at most two decimals.`,
        `lines[${i}].unitPrice`,
      );
    }
    return {
      productCode: line.productCode,
      platformSkuId: null,
      platformLineId: null,
      quantity: line.quantity,
      unitPrice: unit.toFixed(2),
      lineTotal: unit.times(line.quantity).toFixed(2),
    };
  });
  const a = input.shippingAddress;
  return {
    externalId: input.externalId.trim(),
    status: OrderStatus.PENDING_PAYMENT,
    platformStatus: 'API',
    customerName: input.customerName.trim(),
    shippingAddress: {
      name: a.name ?? null,
      phone: a.phone ?? null,
      province: a.province ?? null,
      city: a.city ?? null,
      district: a.district ?? null,
      line1: a.line1.trim(),
      postalCode: a.postalCode ?? null,
      country: a.country,
    },
    lines,
    total: lines.reduce((sum, l) => sum.plus(l.lineTotal), new Decimal(0)).toFixed(2),
    currencyCode: input.currencyCode,
    placedAt: new Date(),
    paidAt: null,
    contactPhone: optionalContact(input.contactPhone, 'contactPhone', 32),
    wechatOpenId: optionalContact(input.wechatOpenId, 'wechatOpenId', 128),
  };
}

function optionalContact(value: string | null | undefined, field: string, max: number): string | null {
  const text = value?.trim() ?? '';
  if (text.length > max) throw new BadUserInputError(`${field} has at most ${max} characters.`, field);
  return text || null;
}
