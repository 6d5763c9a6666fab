import { describe, expect, it } from 'vitest';
import { douyin } from '../../connectors/douyin.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown, variantOf } from '../support/connector-cases.js';
import { sample as loadSample } from '../support/webhooks.js';

const sample = loadSample('douyin');

const variant = variantOf(sample);

const mappingError = (payload: unknown) => thrown(() => douyin.toOrder(payload));

/** A sub-order (line) as Douyin sends it, without sum_amount unless given. */
function sku(fields: Record<string, unknown>) {
  return { order_id: '1', sku_id: 1739000000009, code: 'CODE', item_num: 1, origin_amount: 100, ...fields };
}

/** The sample with only `skus` and no pay_amount, so the total is the lines' sum. */
function withSkus(...skus: unknown[]) {
  return variant((o) => {
    o.sku_order_list = skus;
    delete o.pay_amount;
  });
}

/** Unix seconds of an ISO time. */
const unix = (iso: string) => Date.parse(iso) / 1000;

describe('Douyin connector', () => {
  it('is the DOUYIN connector', () => {
    expect(douyin.platform).toBe(Platform.DOUYIN);
  });

  it('maps the sample order, every field; its line has no code, so the sku id goes through the SKU map', () => {
    expect(douyin.toOrder(variant())).toEqual({
      externalId: '6925000000000000001',
      status: OrderStatus.PAID,
      platformStatus: '2',
      customerName: '张三',
      shippingAddress: {
        name: '张三',
        phone: '13600000000',
        province: '广东省',
        city: '深圳市',
        district: '南山区',
        line1: '科技园南区 1 栋 1201',
        postalCode: null,
        country: 'CN',
      },
      lines: [
        {
          productCode: null,
          platformSkuId: '1739000000001',
          platformLineId: '6925000000000000002',
          quantity: 2,
          unitPrice: '129.90',
          lineTotal: '259.80',
        },
      ],
      total: '259.80',
      currencyCode: 'CNY',
      placedAt: new Date('2026-11-11T12:16:00Z'),
      paidAt: new Date('2026-11-11T12:16:15Z'),
    });
  });

  describe('lines', () => {
    it("takes the merchant's code when the line carries one, keeping the sku id as well", () => {
      const order = douyin.toOrder(variant((o) => (o.sku_order_list[0].code = 'MILK-1L')));
      expect(order.lines[0]).toMatchObject({ productCode: 'MILK-1L', platformSkuId: '1739000000001' });
    });

    it('maps several lines', () => {
      const order = douyin.toOrder(
        variant((o) => o.sku_order_list.push(sku({ code: 'TEA-250G', item_num: 1, origin_amount: 9900 }))),
      );
      expect(order.lines).toEqual([
        {
          productCode: null,
          platformSkuId: '1739000000001',
          platformLineId: '6925000000000000002',
          quantity: 2,
          unitPrice: '129.90',
          lineTotal: '259.80',
        },
        {
          productCode: 'TEA-250G',
          platformSkuId: '1739000000009',
          platformLineId: '1',
          quantity: 1,
          unitPrice: '99.00',
          lineTotal: '99.00',
        },
      ]);
    });

    it("keeps Douyin's own line total (sum_amount) when it differs from price × quantity", () => {
      const order = douyin.toOrder(variant((o) => (o.sku_order_list[0].sum_amount = 23980)));
      expect(order.lines[0]).toMatchObject({ unitPrice: '129.90', lineTotal: '239.80' });
    });

    it('computes the line total when sum_amount is absent', () => {
      const order = douyin.toOrder(variant((o) => delete o.sku_order_list[0].sum_amount));
      expect(order.lines[0].lineTotal).toBe('259.80');
    });
  });

  describe('status', () => {
    it.each([
      [1, OrderStatus.PENDING_PAYMENT],
      [105, OrderStatus.PAID],
      [2, OrderStatus.PAID],
      [101, OrderStatus.PAID],
      [3, OrderStatus.SHIPPED],
      [5, OrderStatus.DELIVERED],
      [4, OrderStatus.CANCELLED],
    ])('%s is %s', (code, status) => {
      const order = douyin.toOrder(variant((o) => (o.order_status = code)));
      expect(order.status).toBe(status);
      expect(order.platformStatus).toBe(String(code));
    });

    it('refuses a status the table does not know, naming the value', () => {
      expect(mappingError(variant((o) => (o.order_status = 6))).message).toBe(
        'Payload field "order_status" has an unknown status 6.',
      );
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: pay time (absent or 0), phone, district', () => {
      expect(douyin.toOrder(variant((o) => delete o.pay_time)).paidAt).toBeNull();
      const order = douyin.toOrder(
        variant((o) => {
          o.pay_time = 0;
          delete o.post_tel;
          delete o.post_addr.town;
        }),
      );
      expect(order.paidAt).toBeNull();
      expect(order.shippingAddress).toMatchObject({ phone: null, district: null });
    });

    it('takes the mask_ copies when the plain fields are not sent', () => {
      const order = douyin.toOrder(
        variant((o) => {
          delete o.post_receiver;
          delete o.post_tel;
          delete o.post_addr.detail;
          o.mask_post_receiver = '张*';
          o.mask_post_tel = '136****0000';
          o.mask_post_addr = { detail: '科技园南区***' };
          o.encrypt_post_receiver = '#ZW5j#cmVjZWl2ZXI=#1##';
        }),
      );
      expect(order.customerName).toBe('张*');
      expect(order.shippingAddress).toMatchObject({
        name: '张*',
        phone: '136****0000',
        line1: '科技园南区***',
      });
    });

    it('takes the encrypt_ copies when nothing else was sent, and keeps them as they came', () => {
      const order = douyin.toOrder(
        variant((o) => {
          delete o.post_receiver;
          delete o.post_tel;
          delete o.post_addr.detail;
          o.encrypt_post_receiver = '#ZW5j#cmVjZWl2ZXI=#1##';
          o.encrypt_post_tel = '$136$ZW5jdGVs$1$';
          o.post_addr.encrypt_detail = '#ZGV0YWls#1##';
        }),
      );
      expect(order.customerName).toBe('#ZW5j#cmVjZWl2ZXI=#1##');
      expect(order.shippingAddress).toMatchObject({ phone: '$136$ZW5jdGVs$1$', line1: '#ZGV0YWls#1##' });
    });

    it('needs some name, naming post_receiver and its copies', () => {
      expect(mappingError(variant((o) => delete o.post_receiver)).message).toBe(
        'Payload field "post_receiver" is missing, and so are mask_post_receiver, encrypt_post_receiver.',
      );
    });
  });

  describe('money (fen)', () => {
    it('reads fen exactly: 1 fen is 0.01, 12990 is 129.90', () => {
      const order = douyin.toOrder(withSkus(sku({ origin_amount: 1 }), sku({ origin_amount: 12990 })));
      expect(order.lines.map((line) => line.unitPrice)).toEqual(['0.01', '129.90']);
      expect(order.total).toBe('129.91');
    });

    it('adds 10 and 20 fen exactly to 0.30', () => {
      expect(douyin.toOrder(withSkus(sku({ origin_amount: 10 }), sku({ origin_amount: 20 }))).total).toBe(
        '0.30',
      );
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = douyin.toOrder(withSkus(sku({ origin_amount: 1999, item_num: 3 })));
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });

    it('takes pay_amount as the order total', () => {
      expect(douyin.toOrder(variant((o) => (o.pay_amount = 25000))).total).toBe('250.00');
    });
  });

  describe('time (unix seconds)', () => {
    it('reads unix seconds; 01:00 in Shanghai on the 12th is 17:00 UTC on the 11th', () => {
      const order = douyin.toOrder(variant((o) => (o.create_time = unix('2026-11-12T01:00:00+08:00'))));
      expect(order.placedAt.toISOString()).toBe('2026-11-11T17:00:00.000Z');
    });

    it('refuses milliseconds where seconds belong', () => {
      expect(mappingError(variant((o) => (o.create_time = 1794399360000))).message).toMatch(
        /^Payload field "create_time" is .* outside 2000–2099: the value or its unit is wrong\.$/,
      );
    });
  });

  describe('bad payloads', () => {
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['$', 'the payload is a JSON string', JSON.stringify(sample)],
      [
        'order_id',
        'order_id is an unsafe number',
        variant((o) => (o.order_id = Number('6925000000000000001'))),
      ],
      ['order_id', 'order_id is missing', variant((o) => delete o.order_id)],
      ['order_status', 'order_status is missing', variant((o) => delete o.order_status)],
      ['order_status', 'order_status is unknown', variant((o) => (o.order_status = 0))],
      ['post_addr', 'post_addr is a string', variant((o) => (o.post_addr = '广东省深圳市'))],
      ['post_addr.province', 'the province is a string', variant((o) => (o.post_addr.province = '广东省'))],
      ['post_addr.detail', 'there is no address line', variant((o) => delete o.post_addr.detail)],
      ['post_addr.detail', 'there is no address at all', variant((o) => delete o.post_addr)],
      [
        'mask_post_addr',
        'mask_post_addr is a string',
        variant((o) => (delete o.post_addr.detail, (o.mask_post_addr = 'x'))),
      ],
      ['sku_order_list', 'sku_order_list is missing', variant((o) => delete o.sku_order_list)],
      ['sku_order_list', 'there are no lines', variant((o) => (o.sku_order_list = []))],
      ['sku_order_list[0]', 'the lines are numbers', variant((o) => (o.sku_order_list = [1739000000001]))],
      [
        'sku_order_list[1].item_num',
        'a second line has item_num 0',
        variant((o) => o.sku_order_list.push(sku({ item_num: 0 }))),
      ],
      ['sku_order_list[0].item_num', 'item_num is "2"', variant((o) => (o.sku_order_list[0].item_num = '2'))],
      [
        'sku_order_list[0].origin_amount',
        'origin_amount is negative',
        variant((o) => (o.sku_order_list[0].origin_amount = -1)),
      ],
      [
        'sku_order_list[0].origin_amount',
        'origin_amount is a fraction of a fen',
        variant((o) => (o.sku_order_list[0].origin_amount = 129.9)),
      ],
      [
        'sku_order_list[0].origin_amount',
        'origin_amount is yuan as a string',
        variant((o) => (o.sku_order_list[0].origin_amount = '129.90')),
      ],
      [
        'sku_order_list[0].sum_amount',
        'sum_amount is negative',
        variant((o) => (o.sku_order_list[0].sum_amount = -25980)),
      ],
      ['sku_order_list[0].code', 'code is a number', variant((o) => (o.sku_order_list[0].code = 42))],
      ['pay_amount', 'pay_amount is a string', variant((o) => (o.pay_amount = '259.80'))],
      ['create_time', 'create_time is missing', variant((o) => delete o.create_time)],
      [
        'create_time',
        'create_time is a date string',
        variant((o) => (o.create_time = '2026-11-11 20:16:00')),
      ],
      ['create_time', 'create_time is 0', variant((o) => (o.create_time = 0))],
      ['pay_time', 'pay_time is a fraction', variant((o) => (o.pay_time = 1794399375.5))],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });
  });

  describe('pull', () => {
    it('asks for orders changed since the cursor', () => {
      expect(douyin.pull.request('https://gw.example/douyin', null).url).toBe(
        'https://gw.example/douyin/order/searchList',
      );
      expect(douyin.pull.request('https://gw.example/douyin', 'eyJpZCI6MX0=').url).toBe(
        'https://gw.example/douyin/order/searchList?cursor=eyJpZCI6MX0%3D',
      );
    });

    it('reads a page of orders and the next cursor', () => {
      const body = { code: 10000, msg: 'success', data: { shop_order_list: [sample], next_cursor: 'n2' } };
      expect(douyin.pull.parse(body)).toEqual({ orders: [sample], nextCursor: 'n2' });
      expect(douyin.pull.parse({ data: { shop_order_list: [], next_cursor: '' } })).toEqual({
        orders: [],
        nextCursor: null,
      });
    });

    it.each<[string, string, unknown]>([
      ['$', 'the reply is null', null],
      ['data', 'there is no data', { code: 50002, msg: 'invalid token' }],
      ['data.shop_order_list', 'an error reply has empty data', { code: 50002, data: {} }],
      ['data.shop_order_list', 'the list is a string', { data: { shop_order_list: '[]' } }],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => douyin.pull.parse(body)).fieldPath).toBe(path);
    });
  });
});
