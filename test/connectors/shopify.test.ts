import { describe, expect, it } from 'vitest';
import { SHOPIFY_PAGE_SIZE, shopify } from '../../connectors/shopify.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown, variantOf } from '../support/connector-cases.js';
import { sample as loadSample } from '../support/webhooks.js';

const sample = loadSample('shopify');

const variant = variantOf(sample);

const mappingError = (payload: unknown) => thrown(() => shopify.toOrder(payload));

/** A line item as Shopify sends it. */
function lineItem(fields: Record<string, unknown>) {
  return { id: 1, variant_id: 39072856, sku: 'CODE', title: 'x', quantity: 1, price: '1.00', ...fields };
}

/** The sample with only `items` and no total_price, so the total is the lines' sum. */
function withItems(...items: unknown[]) {
  return variant((o) => {
    o.line_items = items;
    delete o.total_price;
  });
}

describe('Shopify connector', () => {
  it('is the SHOPIFY connector', () => {
    expect(shopify.platform).toBe(Platform.SHOPIFY);
  });

  it('maps the sample order, every field', () => {
    expect(shopify.toOrder(variant())).toEqual({
      externalId: '820982911946154508',
      status: OrderStatus.PAID,
      platformStatus: 'financial_status=paid, fulfillment_status=null',
      customerName: 'Ada Lovelace',
      shippingAddress: {
        name: 'Ada Lovelace',
        phone: '+44 20 7946 0000',
        province: 'England',
        city: 'London',
        district: null,
        line1: "12 St James's Square",
        postalCode: 'SW1Y 4JH',
        country: 'GB',
      },
      lines: [
        {
          productCode: 'MILK-1L',
          platformSkuId: null,
          platformLineId: '466157049',
          quantity: 1,
          unitPrice: '199.00',
          lineTotal: '199.00',
        },
      ],
      total: '199.00',
      currencyCode: 'USD',
      placedAt: new Date('2026-11-11T12:15:32Z'),
      paidAt: null,
      contactPhone: '+44 20 7946 0000',
    });
  });

  describe('the contact phone (for notices)', () => {
    it("is the order's own phone before the consignee's", () => {
      expect(shopify.toOrder(variant((o) => (o.phone = '+86 138 1234 5678'))).contactPhone).toBe(
        '+86 138 1234 5678',
      );
    });

    it('is none when the phone is masked or absent', () => {
      const masked = variant((o) => {
        o.phone = '138****5678';
        o.shipping_address.phone = '138****5678';
      });
      expect(shopify.toOrder(masked).contactPhone).toBeNull();
      expect(shopify.toOrder(variant((o) => delete o.shipping_address.phone)).contactPhone).toBeNull();
      // The address keeps what was sent, masked or not.
      expect(shopify.toOrder(masked).shippingAddress.phone).toBe('138****5678');
    });
  });

  describe('the order id', () => {
    it("is admin_graphql_api_id's number, never the id JSON.parse already changed", () => {
      expect(String(sample.id)).not.toBe('820982911946154508');
      expect(shopify.toOrder(variant()).externalId).toBe('820982911946154508');
    });

    it('is a safe numeric id as a string when there is no admin_graphql_api_id', () => {
      const order = variant((o) => {
        delete o.admin_graphql_api_id;
        o.id = 450789469;
      });
      expect(shopify.toOrder(order).externalId).toBe('450789469');
    });

    it('is refused when only an unsafe numeric id is left, naming id', () => {
      const error = mappingError(variant((o) => delete o.admin_graphql_api_id));
      expect(error.fieldPath).toBe('id');
      expect(error.message).toMatch(/beyond 2\^53 .*send admin_graphql_api_id\.$/);
    });

    it('refuses a gid of another resource', () => {
      const error = mappingError(
        variant((o) => (o.admin_graphql_api_id = 'gid://shopify/Customer/115310627314723954')),
      );
      expect(error.fieldPath).toBe('admin_graphql_api_id');
    });
  });

  describe('lines', () => {
    it('maps several lines, with the variant id for the SKU map', () => {
      const order = shopify.toOrder(
        variant((o) =>
          o.line_items.push(lineItem({ variant_id: 808950810, sku: 'TEA-250G', quantity: 2, price: '9.50' })),
        ),
      );
      expect(order.lines).toEqual([
        {
          productCode: 'MILK-1L',
          platformSkuId: null,
          platformLineId: '466157049',
          quantity: 1,
          unitPrice: '199.00',
          lineTotal: '199.00',
        },
        {
          productCode: 'TEA-250G',
          platformSkuId: '808950810',
          platformLineId: '1',
          quantity: 2,
          unitPrice: '9.50',
          lineTotal: '19.00',
        },
      ]);
    });

    it('leaves productCode null when the sku is empty or null', () => {
      for (const sku of ['', null]) {
        const order = shopify.toOrder(
          variant((o) => {
            o.line_items[0].sku = sku;
            o.line_items[0].variant_id = 39072856;
          }),
        );
        expect(order.lines[0]).toMatchObject({ productCode: null, platformSkuId: '39072856' });
      }
    });
  });

  describe('status', () => {
    it.each<[string, string | null, string | null, OrderStatus]>([
      ['pending', null, null, OrderStatus.PENDING_PAYMENT],
      ['authorized', null, null, OrderStatus.PAID],
      ['paid', null, null, OrderStatus.PAID],
      ['paid', 'partial', null, OrderStatus.PAID],
      ['paid', 'fulfilled', null, OrderStatus.SHIPPED],
      ['authorized', 'fulfilled', null, OrderStatus.SHIPPED],
      ['refunded', 'fulfilled', null, OrderStatus.REFUNDED],
      ['voided', null, null, OrderStatus.CANCELLED],
      ['paid', null, '2026-11-12T09:00:00+08:00', OrderStatus.CANCELLED],
      ['refunded', null, '2026-11-12T09:00:00+08:00', OrderStatus.CANCELLED],
      ['partially_paid', null, null, OrderStatus.PENDING_PAYMENT],
      ['partially_refunded', null, null, OrderStatus.PAID],
      ['partially_refunded', 'fulfilled', null, OrderStatus.SHIPPED],
      ['expired', null, null, OrderStatus.CANCELLED],
      ['paid', 'restocked', null, OrderStatus.CANCELLED],
    ])(
      'financial_status %s, fulfillment_status %s, cancelled_at %s: %s',
      (financial, fulfillment, cancelledAt, status) => {
        const order = shopify.toOrder(
          variant((o) => {
            o.financial_status = financial;
            o.fulfillment_status = fulfillment;
            o.cancelled_at = cancelledAt;
          }),
        );
        expect(order.status).toBe(status);
      },
    );

    it('keeps all three fields in platformStatus', () => {
      const order = shopify.toOrder(
        variant((o) => {
          o.financial_status = 'refunded';
          o.fulfillment_status = 'fulfilled';
          o.cancelled_at = '2026-11-12T09:00:00+08:00';
        }),
      );
      expect(order.platformStatus).toBe(
        'financial_status=refunded, fulfillment_status=fulfilled, cancelled_at=2026-11-12T09:00:00+08:00',
      );
    });

    it.each([
      ['financial_status', 'chargeback'],
      ['fulfillment_status', 'lost'],
    ])('refuses a %s the table does not know (%s), naming the value', (field, value) => {
      const error = mappingError(variant((o) => (o[field] = value)));
      expect(error.message).toBe(`Payload field "${field}" has an unknown status "${value}".`);
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: phone, postal code, province; Shopify has no district', () => {
      const order = shopify.toOrder(
        variant((o) => {
          delete o.shipping_address.phone;
          o.shipping_address.zip = null;
          delete o.shipping_address.province;
        }),
      );
      expect(order.shippingAddress).toMatchObject({
        phone: null,
        postalCode: null,
        province: null,
        district: null,
      });
    });

    it('joins address1 and address2 into the one line', () => {
      const order = shopify.toOrder(variant((o) => (o.shipping_address.address2 = 'Flat 3')));
      expect(order.shippingAddress.line1).toBe("12 St James's Square, Flat 3");
    });

    it('takes a customer with only a first name', () => {
      expect(shopify.toOrder(variant((o) => (o.customer = { first_name: 'Ada' }))).customerName).toBe('Ada');
    });

    it("falls back to the shipping address's name, then its first and last name, then the billing name", () => {
      expect(shopify.toOrder(variant((o) => (o.customer = null))).customerName).toBe('Ada Lovelace');
      const noName = variant((o) => {
        delete o.customer;
        delete o.shipping_address.name;
        o.shipping_address.first_name = 'Augusta';
        o.shipping_address.last_name = 'King';
      });
      expect(shopify.toOrder(noName).customerName).toBe('Augusta King');
      expect(shopify.toOrder(noName).shippingAddress.name).toBe('Augusta King');
      const billing = variant((o) => {
        delete o.customer;
        delete o.shipping_address.name;
        o.billing_address = { name: 'A. A. Lovelace' };
      });
      expect(shopify.toOrder(billing).customerName).toBe('A. A. Lovelace');
    });

    it('needs some name', () => {
      const error = mappingError(variant((o) => (delete o.customer, delete o.shipping_address.name)));
      expect(error.fieldPath).toBe('customer');
    });
  });

  describe('money (decimal strings in the order currency)', () => {
    it('adds 0.10 and 0.20 exactly to 0.30', () => {
      expect(shopify.toOrder(withItems(lineItem({ price: '0.10' }), lineItem({ price: '0.20' }))).total).toBe(
        '0.30',
      );
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = shopify.toOrder(withItems(lineItem({ price: '19.99', quantity: 3 })));
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });

    it('takes total_price and currency as Shopify sends them', () => {
      const order = shopify.toOrder(
        variant((o) => {
          o.currency = 'JPY';
          o.total_price = '1000';
          o.line_items[0].price = '1000';
        }),
      );
      expect(order).toMatchObject({
        currencyCode: 'JPY',
        total: '1000.00',
        lines: [{ unitPrice: '1000.00' }],
      });
    });
  });

  describe('time (ISO 8601 with an offset)', () => {
    it.each([
      ['2026-11-12T01:00:00+08:00', '2026-11-11T17:00:00.000Z'],
      ['2026-11-11T17:00:00Z', '2026-11-11T17:00:00.000Z'],
      ['2026-11-11T12:00:00-05:00', '2026-11-11T17:00:00.000Z'],
      ['2026-11-11T17:00:00.250+0000', '2026-11-11T17:00:00.250Z'],
    ])('%s is %s', (createdAt, utc) => {
      expect(shopify.toOrder(variant((o) => (o.created_at = createdAt))).placedAt.toISOString()).toBe(utc);
    });
  });

  describe('bad payloads', () => {
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['$', 'the payload is a list of orders', [sample]],
      ['id', 'there is no id at all', variant((o) => (delete o.admin_graphql_api_id, delete o.id))],
      [
        'admin_graphql_api_id',
        'the gid is a number',
        variant((o) => (o.admin_graphql_api_id = 820982911946154)),
      ],
      ['financial_status', 'financial_status is missing', variant((o) => delete o.financial_status)],
      ['financial_status', 'financial_status is null', variant((o) => (o.financial_status = null))],
      [
        'fulfillment_status',
        'fulfillment_status is a list',
        variant((o) => (o.fulfillment_status = ['fulfilled'])),
      ],
      ['cancelled_at', 'cancelled_at is not a time', variant((o) => (o.cancelled_at = 'yes'))],
      ['shipping_address', 'there is no shipping address', variant((o) => (o.shipping_address = null))],
      [
        'shipping_address',
        'the shipping address is a string',
        variant((o) => (o.shipping_address = 'London')),
      ],
      ['shipping_address.address1', 'there is no street', variant((o) => delete o.shipping_address.address1)],
      [
        'shipping_address.country_code',
        'there is no country code',
        variant((o) => delete o.shipping_address.country_code),
      ],
      [
        'shipping_address.country_code',
        'the country code is a name',
        variant((o) => (o.shipping_address.country_code = 'United Kingdom')),
      ],
      [
        'shipping_address.country_code',
        'the country code is lower case',
        variant((o) => (o.shipping_address.country_code = 'gb')),
      ],
      ['customer', 'customer is a string', variant((o) => (o.customer = 'Ada Lovelace'))],
      ['customer.first_name', 'first_name is a number', variant((o) => (o.customer.first_name = 1))],
      ['line_items', 'line_items is missing', variant((o) => delete o.line_items)],
      ['line_items', 'there are no lines', variant((o) => (o.line_items = []))],
      ['line_items[0]', 'the lines are numbers', variant((o) => (o.line_items = [466157049]))],
      [
        'line_items[1].quantity',
        'a second line has quantity 0',
        variant((o) => o.line_items.push(lineItem({ quantity: 0 }))),
      ],
      ['line_items[0].quantity', 'quantity is "1"', variant((o) => (o.line_items[0].quantity = '1'))],
      ['line_items[0].price', 'price is a number', variant((o) => (o.line_items[0].price = 199))],
      ['line_items[0].price', 'price is negative', variant((o) => (o.line_items[0].price = '-199.00'))],
      [
        'line_items[0].variant_id',
        'variant_id is an unsafe number',
        variant((o) => (o.line_items[0].variant_id = 2 ** 60)),
      ],
      ['total_price', 'total_price is "abc"', variant((o) => (o.total_price = 'abc'))],
      ['currency', 'currency is missing', variant((o) => delete o.currency)],
      ['currency', 'currency is a symbol', variant((o) => (o.currency = '$'))],
      ['created_at', 'created_at is missing', variant((o) => delete o.created_at)],
      ['created_at', 'created_at has no offset', variant((o) => (o.created_at = '2026-11-11T20:15:32'))],
      [
        'created_at',
        'created_at is local Shanghai style',
        variant((o) => (o.created_at = '2026-11-11 20:15:32')),
      ],
      [
        'created_at',
        'created_at has an hour 25 offset',
        variant((o) => (o.created_at = '2026-11-11T20:15:32+25:00')),
      ],
      ['created_at', 'created_at is unix seconds', variant((o) => (o.created_at = 1794399332))],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });
  });

  describe('pull', () => {
    it('asks for any orders updated since the cursor, oldest first, a full page at a time', () => {
      expect(shopify.pull.request('https://shop.example.com', null).url).toBe(
        'https://shop.example.com/admin/api/2025-01/orders.json?status=any&order=updated_at%20asc&limit=250',
      );
      expect(shopify.pull.request('https://shop.example.com/', '2026-11-11T20:15:32+08:00').url).toBe(
        'https://shop.example.com/admin/api/2025-01/orders.json?status=any&order=updated_at%20asc&limit=250' +
          '&updated_at_min=2026-11-11T20%3A15%3A32%2B08%3A00',
      );
    });

    it('reads a short page as everything there is now', () => {
      expect(shopify.pull.parse({ orders: [sample] })).toEqual({ orders: [sample], nextCursor: null });
      expect(shopify.pull.parse({ orders: [] })).toEqual({ orders: [], nextCursor: null });
    });

    it("continues a full page from its last order's updated_at", () => {
      const orders = Array.from({ length: SHOPIFY_PAGE_SIZE }, (_, i) => ({
        ...sample,
        updated_at: `2026-11-11T20:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}+08:00`,
      }));
      expect(shopify.pull.parse({ orders })).toEqual({ orders, nextCursor: '2026-11-11T20:04:09+08:00' });
    });

    it.each<[string, string, unknown]>([
      ['$', 'the reply is null', null],
      ['orders', 'it is an error reply', { errors: '[API] Invalid API key or access token' }],
      ['orders', 'orders is an object', { orders: { order: [] } }],
      [
        `orders[${SHOPIFY_PAGE_SIZE - 1}].updated_at`,
        "a full page's last order has no updated_at",
        { orders: Array.from({ length: SHOPIFY_PAGE_SIZE }, () => sample) },
      ],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => shopify.pull.parse(body)).fieldPath).toBe(path);
    });
  });

  describe('refundPull', () => {
    it('asks the same orders list for each order’s id, updated_at and refunds only', () => {
      expect(shopify.refundPull!.request('https://shop.example.com', '2026-11-11T20:15:32+08:00').url).toBe(
        'https://shop.example.com/admin/api/2025-01/orders.json?status=any&order=updated_at%20asc&limit=250' +
          '&fields=id%2Cupdated_at%2Crefunds&updated_at_min=2026-11-11T20%3A15%3A32%2B08%3A00',
      );
    });

    it('gives the refunds of the page in order, each raw; an order that is no object, or whose refunds are no list, is passed on to fail alone', () => {
      const a = { id: 1 };
      const b = { id: 2 };
      const orders = [
        { id: 10, refunds: [a, b] },
        { id: 11, refunds: [] },
        { id: 12 },
        'junk',
        { id: 13, refunds: 7 },
      ];
      expect(shopify.refundPull!.parse({ orders })).toEqual({ orders: [a, b, 'junk', 7], nextCursor: null });
    });

    it("continues a full page of orders from its last order's updated_at, refunds or not", () => {
      const orders = Array.from({ length: SHOPIFY_PAGE_SIZE }, (_, i) => ({
        id: i,
        updated_at: `2026-11-11T20:${String(Math.floor(i / 60)).padStart(2, '0')}:${String(i % 60).padStart(2, '0')}+08:00`,
        refunds: [],
      }));
      expect(shopify.refundPull!.parse({ orders })).toEqual({
        orders: [],
        nextCursor: '2026-11-11T20:04:09+08:00',
      });
    });
  });
});
