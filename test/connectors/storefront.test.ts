import { describe, expect, it } from 'vitest';
import { storefront } from '../../connectors/storefront.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown, variantOf } from '../support/connector-cases.js';

/** The merchant's own storefront sends the hub's canonical shape (see connectors/storefront.ts). */
const sample = {
  externalId: 'SF-10001',
  status: 'PAID',
  customerName: 'Grace Hopper',
  shippingAddress: {
    name: 'Grace Hopper',
    phone: '+1 555 0100',
    province: 'VA',
    city: 'Arlington',
    district: null,
    line1: '1 Navy Way',
    postalCode: '22202',
    country: 'US',
  },
  lines: [
    { productCode: 'MILK-1L', quantity: 2, unitPrice: '129.90' },
    { productCode: 'TEA-250G', quantity: 1, unitPrice: '99.00' },
  ],
  currencyCode: 'CNY',
  placedAt: '2026-01-05T20:15:02+08:00',
  paidAt: '2026-01-05T20:15:30+08:00',
};

const variant = variantOf(sample);

const mappingError = (payload: unknown) => thrown(() => storefront.toOrder(payload));

describe('Storefront connector', () => {
  it('is the STOREFRONT connector', () => {
    expect(storefront.platform).toBe(Platform.STOREFRONT);
  });

  it('maps the canonical payload, every field; the total is the sum of the lines', () => {
    expect(storefront.toOrder(variant())).toEqual({
      externalId: 'SF-10001',
      status: OrderStatus.PAID,
      platformStatus: 'PAID',
      customerName: 'Grace Hopper',
      shippingAddress: {
        name: 'Grace Hopper',
        phone: '+1 555 0100',
        province: 'VA',
        city: 'Arlington',
        district: null,
        line1: '1 Navy Way',
        postalCode: '22202',
        country: 'US',
      },
      lines: [
        {
          productCode: 'MILK-1L',
          platformSkuId: null,
          quantity: 2,
          unitPrice: '129.90',
          lineTotal: '259.80',
        },
        { productCode: 'TEA-250G', platformSkuId: null, quantity: 1, unitPrice: '99.00', lineTotal: '99.00' },
      ],
      total: '358.80',
      currencyCode: 'CNY',
      placedAt: new Date('2026-01-05T12:15:02Z'),
      paidAt: new Date('2026-01-05T12:15:30Z'),
    });
  });

  it('takes a numeric externalId as a string', () => {
    expect(storefront.toOrder(variant((o) => (o.externalId = 10001))).externalId).toBe('10001');
  });

  describe('status', () => {
    it.each(Object.values(OrderStatus))('%s is itself', (status) => {
      const order = storefront.toOrder(variant((o) => (o.status = status)));
      expect(order.status).toBe(status);
      expect(order.platformStatus).toBe(status);
    });

    it.each(['paid', 'SHIPPING', ''])('refuses %j', (status) => {
      expect(mappingError(variant((o) => (o.status = status))).fieldPath).toBe('status');
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: pay time, phone, postal code, district, province, city', () => {
      const order = storefront.toOrder(
        variant((o) => {
          delete o.paidAt;
          delete o.shippingAddress.phone;
          delete o.shippingAddress.postalCode;
          delete o.shippingAddress.province;
          o.shippingAddress.city = null;
        }),
      );
      expect(order.paidAt).toBeNull();
      expect(order.shippingAddress).toEqual({
        name: 'Grace Hopper',
        phone: null,
        province: null,
        city: null,
        district: null,
        line1: '1 Navy Way',
        postalCode: null,
        country: 'US',
      });
    });

    it("falls back to the address's name when there is no customerName", () => {
      expect(storefront.toOrder(variant((o) => delete o.customerName)).customerName).toBe('Grace Hopper');
    });

    it('needs some name', () => {
      const error = mappingError(variant((o) => (delete o.customerName, delete o.shippingAddress.name)));
      expect(error.message).toBe('Payload field "customerName" is missing.');
    });
  });

  describe('money', () => {
    it('adds 0.10 and 0.20 exactly to 0.30', () => {
      const order = storefront.toOrder(
        variant(
          (o) =>
            (o.lines = [
              { productCode: 'A', quantity: 1, unitPrice: '0.10' },
              { productCode: 'B', quantity: 1, unitPrice: '0.20' },
            ]),
        ),
      );
      expect(order.total).toBe('0.30');
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = storefront.toOrder(
        variant((o) => (o.lines = [{ productCode: 'A', quantity: 3, unitPrice: '19.99' }])),
      );
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });

    it('takes another currency', () => {
      expect(storefront.toOrder(variant((o) => (o.currencyCode = 'EUR'))).currencyCode).toBe('EUR');
    });
  });

  describe('time (ISO 8601 with an offset)', () => {
    it('moves a time after midnight in Shanghai to the day before in UTC', () => {
      const order = storefront.toOrder(variant((o) => (o.placedAt = '2026-11-12T01:00:00+08:00')));
      expect(order.placedAt.toISOString()).toBe('2026-11-11T17:00:00.000Z');
    });
  });

  describe('bad payloads', () => {
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['$', 'the payload is a string', 'SF-10001'],
      ['externalId', 'externalId is missing', variant((o) => delete o.externalId)],
      ['externalId', 'externalId is an object', variant((o) => (o.externalId = { id: 1 }))],
      ['status', 'status is missing', variant((o) => delete o.status)],
      ['customerName', 'customerName is a number', variant((o) => (o.customerName = 42))],
      ['shippingAddress', 'shippingAddress is missing', variant((o) => delete o.shippingAddress)],
      ['shippingAddress', 'shippingAddress is a string', variant((o) => (o.shippingAddress = '1 Navy Way'))],
      ['shippingAddress.line1', 'line1 is missing', variant((o) => delete o.shippingAddress.line1)],
      ['shippingAddress.country', 'country is missing', variant((o) => delete o.shippingAddress.country)],
      [
        'shippingAddress.country',
        'country is three letters',
        variant((o) => (o.shippingAddress.country = 'USA')),
      ],
      ['shippingAddress.phone', 'phone is a number', variant((o) => (o.shippingAddress.phone = 15550100))],
      ['lines', 'lines is missing', variant((o) => delete o.lines)],
      ['lines', 'there are no lines', variant((o) => (o.lines = []))],
      ['lines[0]', 'the lines are numbers', variant((o) => (o.lines = [1, 2]))],
      [
        'lines[1].productCode',
        'a second line has no productCode',
        variant((o) => delete o.lines[1].productCode),
      ],
      ['lines[0].quantity', 'quantity is 0', variant((o) => (o.lines[0].quantity = 0))],
      ['lines[0].quantity', 'quantity is "2"', variant((o) => (o.lines[0].quantity = '2'))],
      ['lines[0].unitPrice', 'unitPrice is a number', variant((o) => (o.lines[0].unitPrice = 129.9))],
      ['lines[0].unitPrice', 'unitPrice is negative', variant((o) => (o.lines[0].unitPrice = '-1.00'))],
      [
        'lines[0].unitPrice',
        'unitPrice has three decimals',
        variant((o) => (o.lines[0].unitPrice = '1.005')),
      ],
      ['currencyCode', 'currencyCode is missing', variant((o) => delete o.currencyCode)],
      ['currencyCode', 'currencyCode is lower case', variant((o) => (o.currencyCode = 'cny'))],
      ['placedAt', 'placedAt is missing', variant((o) => delete o.placedAt)],
      ['placedAt', 'placedAt has no offset', variant((o) => (o.placedAt = '2026-01-05T20:15:02'))],
      ['placedAt', 'placedAt is a date only', variant((o) => (o.placedAt = '2026-01-05'))],
      ['paidAt', 'paidAt is not a time', variant((o) => (o.paidAt = 'soon'))],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });
  });

  describe('pull', () => {
    it('asks for orders changed since the cursor', () => {
      expect(storefront.pull.request('https://shop.example.com/api', null).url).toBe(
        'https://shop.example.com/api/orders/changes',
      );
      expect(storefront.pull.request('https://shop.example.com/api', '42').url).toBe(
        'https://shop.example.com/api/orders/changes?cursor=42',
      );
    });

    it('reads a page of orders and the next cursor', () => {
      expect(storefront.pull.parse({ orders: [sample], nextCursor: '43' })).toEqual({
        orders: [sample],
        nextCursor: '43',
      });
      expect(storefront.pull.parse({ orders: [], nextCursor: null })).toEqual({
        orders: [],
        nextCursor: null,
      });
    });

    it.each<[string, string, unknown]>([
      ['$', 'the reply is a list', [sample]],
      ['orders', 'the orders are missing', { nextCursor: '43' }],
      ['nextCursor', 'the cursor is an object', { orders: [], nextCursor: { after: 43 } }],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => storefront.pull.parse(body)).fieldPath).toBe(path);
    });
  });
});
