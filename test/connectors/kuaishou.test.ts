import { describe, expect, it } from 'vitest';
import { kuaishou } from '../../connectors/kuaishou.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown, variantOf } from '../support/connector-cases.js';
import { sample as loadSample } from '../support/webhooks.js';

const sample = loadSample('kuaishou');

const variant = variantOf(sample);

const mappingError = (payload: unknown) => thrown(() => kuaishou.toOrder(payload));

/** The sample with its item changed and no totalFee, so the total is the line's. */
function withItem(fields: Record<string, unknown>) {
  return variant((o) => {
    Object.assign(o.orderItemInfo, fields);
    delete o.orderBaseInfo.totalFee;
  });
}

describe('Kuaishou connector', () => {
  it('is the KUAISHOU connector', () => {
    expect(kuaishou.platform).toBe(Platform.KUAISHOU);
  });

  it('maps the sample order, every field; the customer is the consignee, not the masked buyer nick', () => {
    expect(kuaishou.toOrder(variant())).toEqual({
      externalId: '2611112015300001',
      status: OrderStatus.PAID,
      platformStatus: '30',
      customerName: '赵敏',
      shippingAddress: {
        name: '赵敏',
        phone: '13400000000',
        province: '湖北省',
        city: '武汉市',
        district: '洪山区',
        line1: '珞喻路 1037 号',
        postalCode: null,
        country: 'CN',
      },
      lines: [
        {
          productCode: 'TEA-250G',
          platformSkuId: '88001',
          quantity: 1,
          unitPrice: '129.00',
          lineTotal: '129.00',
        },
      ],
      total: '129.00',
      currencyCode: 'CNY',
      placedAt: new Date('2026-11-11T12:15:30Z'),
      paidAt: new Date('2026-11-11T12:15:42Z'),
    });
  });

  describe('the line (Kuaishou sends one item per order)', () => {
    it('takes several of the item, at originalPrice', () => {
      const order = kuaishou.toOrder(withItem({ num: 3, originalPrice: 12900, price: 9900 }));
      expect(order.lines).toEqual([
        {
          productCode: 'TEA-250G',
          platformSkuId: '88001',
          quantity: 3,
          unitPrice: '129.00',
          lineTotal: '387.00',
        },
      ]);
      expect(order.total).toBe('387.00');
    });

    it('leaves productCode null and keeps the sku id when skuNick is empty', () => {
      const order = kuaishou.toOrder(variant((o) => (o.orderItemInfo.skuNick = '')));
      expect(order.lines[0]).toMatchObject({ productCode: null, platformSkuId: '88001' });
    });
  });

  describe('status', () => {
    it.each([
      [10, OrderStatus.PENDING_PAYMENT],
      [30, OrderStatus.PAID],
      [40, OrderStatus.SHIPPED],
      [50, OrderStatus.DELIVERED],
      [70, OrderStatus.DELIVERED],
      [80, OrderStatus.CANCELLED],
      [0, null],
    ])('%s is %s', (code, status) => {
      const order = kuaishou.toOrder(variant((o) => (o.orderBaseInfo.status = code)));
      expect(order.status).toBe(status);
      expect(order.platformStatus).toBe(String(code));
    });

    it('refuses a status the table does not know, naming the value', () => {
      expect(mappingError(variant((o) => (o.orderBaseInfo.status = 20))).message).toBe(
        'Payload field "orderBaseInfo.status" has an unknown status 20.',
      );
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: pay time (absent or 0), phone, district', () => {
      expect(kuaishou.toOrder(variant((o) => delete o.orderBaseInfo.payTime)).paidAt).toBeNull();
      const order = kuaishou.toOrder(
        variant((o) => {
          o.orderBaseInfo.payTime = 0;
          delete o.orderAddress.mobile;
          delete o.orderAddress.district;
        }),
      );
      expect(order.paidAt).toBeNull();
      expect(order.shippingAddress).toMatchObject({ phone: null, district: null });
    });

    it('takes the desensitise* copies when the plain fields are not sent', () => {
      const order = kuaishou.toOrder(
        variant((o) => {
          const address = o.orderAddress;
          delete address.consignee;
          delete address.mobile;
          delete address.address;
          address.desensitiseConsignee = '赵*';
          address.desensitiseMobile = '134****0000';
          address.desensitiseAddress = '珞喻路****';
          address.encryptedConsignee = '#enc#consignee#';
        }),
      );
      expect(order.customerName).toBe('赵*');
      expect(order.shippingAddress).toMatchObject({ name: '赵*', phone: '134****0000', line1: '珞喻路****' });
    });

    it('takes the encrypted* copies when nothing else was sent', () => {
      const order = kuaishou.toOrder(
        variant((o) => {
          const address = o.orderAddress;
          delete address.consignee;
          delete address.address;
          address.encryptedConsignee = '#enc#consignee#';
          address.encryptedAddress = '#enc#address#';
        }),
      );
      expect(order.customerName).toBe('#enc#consignee#');
      expect(order.shippingAddress.line1).toBe('#enc#address#');
    });

    it('falls back to the masked buyer nick only when no consignee name exists at all', () => {
      const order = kuaishou.toOrder(variant((o) => delete o.orderAddress.consignee));
      expect(order.customerName).toBe('快**8');
      expect(order.shippingAddress.name).toBeNull();
    });

    it('needs some name', () => {
      const error = mappingError(
        variant((o) => (delete o.orderAddress.consignee, delete o.orderBaseInfo.buyerNick)),
      );
      expect(error.message).toBe(
        'Payload field "orderAddress.consignee" is missing, and so are orderAddress.desensitiseConsignee, ' +
          'orderAddress.encryptedConsignee, orderBaseInfo.buyerNick.',
      );
    });
  });

  describe('money (fen)', () => {
    it('reads fen exactly: 1 fen is 0.01', () => {
      expect(kuaishou.toOrder(withItem({ originalPrice: 1 })).total).toBe('0.01');
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = kuaishou.toOrder(withItem({ originalPrice: 1999, num: 3 }));
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });

    it('takes totalFee as the order total', () => {
      expect(kuaishou.toOrder(variant((o) => (o.orderBaseInfo.totalFee = 30))).total).toBe('0.30');
    });
  });

  describe('time (unix milliseconds)', () => {
    it('reads unix milliseconds; 01:00 in Shanghai on the 12th is 17:00 UTC on the 11th', () => {
      const order = kuaishou.toOrder(
        variant((o) => (o.orderBaseInfo.createTime = Date.parse('2026-11-12T01:00:00+08:00'))),
      );
      expect(order.placedAt.toISOString()).toBe('2026-11-11T17:00:00.000Z');
    });

    it('refuses seconds where milliseconds belong', () => {
      expect(mappingError(variant((o) => (o.orderBaseInfo.createTime = 1794399330))).fieldPath).toBe(
        'orderBaseInfo.createTime',
      );
    });
  });

  describe('bad payloads', () => {
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['$', 'the payload is an array', [sample]],
      ['orderBaseInfo', 'orderBaseInfo is missing', variant((o) => delete o.orderBaseInfo)],
      ['orderBaseInfo', 'orderBaseInfo is a number', variant((o) => (o.orderBaseInfo = 1))],
      ['orderBaseInfo.oid', 'oid is missing', variant((o) => delete o.orderBaseInfo.oid)],
      ['orderBaseInfo.oid', 'oid is an unsafe number', variant((o) => (o.orderBaseInfo.oid = 2 ** 60))],
      ['orderBaseInfo.oid', 'oid is negative', variant((o) => (o.orderBaseInfo.oid = -1))],
      ['orderBaseInfo.status', 'status is missing', variant((o) => delete o.orderBaseInfo.status)],
      [
        'orderBaseInfo.status',
        'status is an object',
        variant((o) => (o.orderBaseInfo.status = { code: 30 })),
      ],
      ['orderAddress', 'orderAddress is missing', variant((o) => delete o.orderAddress)],
      ['orderAddress.address', 'there is no address line', variant((o) => delete o.orderAddress.address)],
      ['orderAddress.consignee', 'consignee is a number', variant((o) => (o.orderAddress.consignee = 7))],
      ['orderItemInfo', 'there is no item', variant((o) => delete o.orderItemInfo)],
      ['orderItemInfo', 'the item is a list of numbers', variant((o) => (o.orderItemInfo = [1]))],
      ['orderItemInfo.num', 'num is 0', variant((o) => (o.orderItemInfo.num = 0))],
      ['orderItemInfo.num', 'num is "1"', variant((o) => (o.orderItemInfo.num = '1'))],
      [
        'orderItemInfo.originalPrice',
        'originalPrice is missing',
        variant((o) => delete o.orderItemInfo.originalPrice),
      ],
      [
        'orderItemInfo.originalPrice',
        'originalPrice is negative',
        variant((o) => (o.orderItemInfo.originalPrice = -1)),
      ],
      [
        'orderItemInfo.originalPrice',
        'originalPrice is yuan',
        variant((o) => (o.orderItemInfo.originalPrice = 129.5)),
      ],
      ['orderItemInfo.skuId', 'skuId is a boolean', variant((o) => (o.orderItemInfo.skuId = true))],
      ['orderBaseInfo.totalFee', 'totalFee is negative', variant((o) => (o.orderBaseInfo.totalFee = -12900))],
      [
        'orderBaseInfo.createTime',
        'createTime is missing',
        variant((o) => delete o.orderBaseInfo.createTime),
      ],
      [
        'orderBaseInfo.createTime',
        'createTime is a string',
        variant((o) => (o.orderBaseInfo.createTime = '1794399330000')),
      ],
      [
        'orderBaseInfo.payTime',
        'payTime is in 2200',
        variant((o) => (o.orderBaseInfo.payTime = Date.UTC(2200, 0, 1))),
      ],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });
  });

  describe('pull', () => {
    it('asks for orders changed since the cursor', () => {
      expect(kuaishou.pull.request('https://gw.example/ks', null).url).toBe(
        'https://gw.example/ks/open/order/cursor/list',
      );
      expect(kuaishou.pull.request('https://gw.example/ks', 'p&2').url).toBe(
        'https://gw.example/ks/open/order/cursor/list?pcursor=p%262',
      );
    });

    it('reads a page of orders and the next cursor; "nomore" means no more now', () => {
      expect(kuaishou.pull.parse({ result: 1, data: { orderList: [sample], pcursor: 'p2' } })).toEqual({
        orders: [sample],
        nextCursor: 'p2',
      });
      expect(kuaishou.pull.parse({ result: 1, data: { orderList: [], pcursor: 'nomore' } })).toEqual({
        orders: [],
        nextCursor: null,
      });
    });

    it.each<[string, string, unknown]>([
      ['$', 'the reply is a number', 1],
      ['data', 'it is an error reply', { result: 28, error_msg: 'access token expired' }],
      ['data.orderList', 'the list is missing', { result: 1, data: { pcursor: 'nomore' } }],
      ['data.pcursor', 'the cursor is a boolean', { result: 1, data: { orderList: [], pcursor: false } }],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => kuaishou.pull.parse(body)).fieldPath).toBe(path);
    });
  });
});
