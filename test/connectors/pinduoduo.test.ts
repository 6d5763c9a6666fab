import { describe, expect, it } from 'vitest';
import { pinduoduo } from '../../connectors/pinduoduo.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown, variantOf } from '../support/connector-cases.js';
import { sample as loadSample } from '../support/webhooks.js';

const sample = loadSample('pinduoduo');

const variant = variantOf(sample);

const mappingError = (payload: unknown) => thrown(() => pinduoduo.toOrder(payload));

/** An item as Pinduoduo sends it. */
function item(fields: Record<string, unknown>) {
  return {
    goods_id: 1,
    sku_id: 2,
    outer_id: 'CODE',
    goods_name: 'x',
    goods_count: 1,
    goods_price: 1,
    ...fields,
  };
}

/** The sample with only `items` and no pay_amount, so the total is the lines' sum. */
function withItems(...items: unknown[]) {
  return variant((o) => {
    o.item_list = items;
    delete o.pay_amount;
  });
}

describe('Pinduoduo connector', () => {
  it('is the PINDUODUO connector', () => {
    expect(pinduoduo.platform).toBe(Platform.PINDUODUO);
  });

  it('maps the sample order, every field', () => {
    expect(pinduoduo.toOrder(variant())).toEqual({
      externalId: '261111-123456789012345',
      status: OrderStatus.PAID,
      platformStatus: 'order_status=1, refund_status=1',
      customerName: '韩梅梅',
      shippingAddress: {
        name: '韩梅梅',
        phone: '13700000000',
        province: '四川省',
        city: '成都市',
        district: '武侯区',
        line1: '天府大道 88 号',
        postalCode: null,
        country: 'CN',
      },
      lines: [
        {
          productCode: 'SNACK-MIX',
          platformSkuId: '910000001',
          quantity: 3,
          unitPrice: '15.30',
          lineTotal: '45.90',
        },
      ],
      total: '45.90',
      currencyCode: 'CNY',
      placedAt: new Date('2026-11-11T12:16:00Z'),
      paidAt: new Date('2026-11-11T12:16:20Z'),
    });
  });

  describe('lines', () => {
    it('maps several lines', () => {
      const order = pinduoduo.toOrder(
        variant((o) =>
          o.item_list.push(
            item({ sku_id: 910000002, outer_id: 'TEA-250G', goods_count: 2, goods_price: 99 }),
          ),
        ),
      );
      expect(order.lines).toEqual([
        {
          productCode: 'SNACK-MIX',
          platformSkuId: '910000001',
          quantity: 3,
          unitPrice: '15.30',
          lineTotal: '45.90',
        },
        {
          productCode: 'TEA-250G',
          platformSkuId: '910000002',
          quantity: 2,
          unitPrice: '99.00',
          lineTotal: '198.00',
        },
      ]);
      expect(order.total).toBe('45.90'); // pay_amount as Pinduoduo sent it
    });

    it('leaves productCode null and keeps the sku id when outer_id is empty', () => {
      const order = pinduoduo.toOrder(variant((o) => (o.item_list[0].outer_id = '')));
      expect(order.lines[0]).toMatchObject({ productCode: null, platformSkuId: '910000001' });
    });
  });

  describe('status', () => {
    it.each<[string, Record<string, number>, OrderStatus, string]>([
      ['order_status 1', { order_status: 1 }, OrderStatus.PAID, 'order_status=1'],
      ['order_status 2', { order_status: 2 }, OrderStatus.SHIPPED, 'order_status=2'],
      ['order_status 3', { order_status: 3 }, OrderStatus.DELIVERED, 'order_status=3'],
      [
        'confirm_status 2 over order_status',
        { order_status: 1, confirm_status: 2 },
        OrderStatus.CANCELLED,
        'order_status=1, confirm_status=2',
      ],
      [
        'refund_status 4 over order_status',
        { order_status: 3, refund_status: 4 },
        OrderStatus.REFUNDED,
        'order_status=3, refund_status=4',
      ],
      [
        'refund_status 4 over confirm_status 2',
        { order_status: 1, confirm_status: 2, refund_status: 4 },
        OrderStatus.REFUNDED,
        'order_status=1, confirm_status=2, refund_status=4',
      ],
      [
        'an after-sale in progress leaves order_status in charge',
        { order_status: 2, confirm_status: 1, refund_status: 3 },
        OrderStatus.SHIPPED,
        'order_status=2, confirm_status=1, refund_status=3',
      ],
    ])('%s', (_, fields, status, platformStatus) => {
      const order = pinduoduo.toOrder(
        variant((o) => {
          delete o.refund_status;
          Object.assign(o, fields);
        }),
      );
      expect(order.status).toBe(status);
      expect(order.platformStatus).toBe(platformStatus);
    });

    it.each([
      ['order_status', 4],
      ['order_status', 0],
      ['confirm_status', 3],
      ['refund_status', 9],
    ])('refuses an unknown %s %s, naming the field and the value', (field, value) => {
      const error = mappingError(variant((o) => (o[field] = value)));
      expect(error.fieldPath).toBe(field);
      expect(error.message).toBe(`Payload field "${field}" has an unknown status ${value}.`);
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: pay time, phone, district', () => {
      const order = pinduoduo.toOrder(
        variant((o) => {
          delete o.pay_time;
          delete o.receiver_phone;
          delete o.town;
        }),
      );
      expect(order.paidAt).toBeNull();
      expect(order.shippingAddress).toMatchObject({ phone: null, district: null, postalCode: null });
    });

    it('takes the _mask copies when the plain fields are not sent', () => {
      const order = pinduoduo.toOrder(
        variant((o) => {
          delete o.receiver_name;
          delete o.receiver_phone;
          delete o.receiver_address;
          delete o.address;
          o.receiver_name_mask = '韩*梅';
          o.receiver_phone_mask = '137****0000';
          o.receiver_address_mask = '天府大道**号';
        }),
      );
      expect(order.customerName).toBe('韩*梅');
      expect(order.shippingAddress).toMatchObject({
        name: '韩*梅',
        phone: '137****0000',
        line1: '天府大道**号',
      });
    });

    it('keeps encrypted plain fields as they came, before any mask', () => {
      const order = pinduoduo.toOrder(
        variant((o) => {
          o.receiver_name = '~AgAAAAEncryptedName~';
          o.receiver_name_mask = '韩*梅';
        }),
      );
      expect(order.customerName).toBe('~AgAAAAEncryptedName~');
    });

    it('falls back to the full address when the street part is missing', () => {
      const order = pinduoduo.toOrder(variant((o) => delete o.receiver_address));
      expect(order.shippingAddress.line1).toBe('四川省成都市武侯区天府大道 88 号');
    });

    it('needs some name and some address', () => {
      const noName = mappingError(variant((o) => delete o.receiver_name));
      expect(noName.message).toBe('Payload field "receiver_name" is missing, and so are receiver_name_mask.');
      const noAddress = mappingError(variant((o) => (delete o.receiver_address, delete o.address)));
      expect(noAddress.fieldPath).toBe('receiver_address');
    });
  });

  describe('money (yuan as a double)', () => {
    it('reads 45.9 as 45.90 and 15.3 × 3 as 45.90, never by float arithmetic', () => {
      const order = pinduoduo.toOrder(variant());
      expect(order.total).toBe('45.90');
      expect(order.lines[0]).toMatchObject({ unitPrice: '15.30', lineTotal: '45.90' });
      expect(15.3 * 3).not.toBe(45.9); // what float arithmetic would have given
    });

    it('adds 0.1 and 0.2 exactly to 0.30', () => {
      expect(pinduoduo.toOrder(withItems(item({ goods_price: 0.1 }), item({ goods_price: 0.2 }))).total).toBe(
        '0.30',
      );
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = pinduoduo.toOrder(withItems(item({ goods_price: 19.99, goods_count: 3 })));
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });

    it('takes whole yuan and zero', () => {
      expect(
        pinduoduo.toOrder(withItems(item({ goods_price: 7 }), item({ goods_price: 0 }))).lines,
      ).toMatchObject([{ unitPrice: '7.00' }, { unitPrice: '0.00' }]);
    });

    it('refuses an amount already spoiled by float arithmetic upstream (0.1 + 0.2)', () => {
      const error = mappingError(variant((o) => (o.pay_amount = 0.1 + 0.2)));
      expect(error.message).toBe(
        'Payload field "pay_amount" has more than two decimal places: 0.30000000000000004.',
      );
    });
  });

  describe('time (Asia/Shanghai local, stored in UTC)', () => {
    it('moves a time after midnight in Shanghai to the day before in UTC', () => {
      const order = pinduoduo.toOrder(variant((o) => (o.created_time = '2026-11-12 01:00:00')));
      expect(order.placedAt).toEqual(new Date('2026-11-11T17:00:00Z'));
    });
  });

  describe('bad payloads', () => {
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['$', 'the payload is true', true],
      ['order_sn', 'order_sn is missing', variant((o) => delete o.order_sn)],
      ['order_sn', 'order_sn is a list', variant((o) => (o.order_sn = ['261111']))],
      ['order_status', 'order_status is missing', variant((o) => delete o.order_status)],
      ['order_status', 'order_status is 1.5', variant((o) => (o.order_status = 1.5))],
      ['refund_status', 'refund_status is an object', variant((o) => (o.refund_status = {}))],
      ['item_list', 'item_list is missing', variant((o) => delete o.item_list)],
      ['item_list', 'there are no items', variant((o) => (o.item_list = []))],
      ['item_list[0]', 'the items are strings', variant((o) => (o.item_list = ['SNACK-MIX']))],
      [
        'item_list[1].goods_count',
        'a second item has goods_count 0',
        variant((o) => o.item_list.push(item({ goods_count: 0 }))),
      ],
      ['item_list[0].goods_count', 'goods_count is -1', variant((o) => (o.item_list[0].goods_count = -1))],
      ['item_list[0].goods_count', 'goods_count is "3"', variant((o) => (o.item_list[0].goods_count = '3'))],
      [
        'item_list[0].goods_price',
        'goods_price is a string',
        variant((o) => (o.item_list[0].goods_price = '15.30')),
      ],
      [
        'item_list[0].goods_price',
        'goods_price is negative',
        variant((o) => (o.item_list[0].goods_price = -15.3)),
      ],
      [
        'item_list[0].goods_price',
        'goods_price has three decimals',
        variant((o) => (o.item_list[0].goods_price = 15.305)),
      ],
      [
        'item_list[0].sku_id',
        'sku_id is an unsafe number',
        variant((o) => (o.item_list[0].sku_id = 2 ** 53 + 2)),
      ],
      ['pay_amount', 'pay_amount is negative', variant((o) => (o.pay_amount = -45.9))],
      ['pay_amount', 'pay_amount is "abc"', variant((o) => (o.pay_amount = 'abc'))],
      ['created_time', 'created_time is missing', variant((o) => delete o.created_time)],
      ['created_time', 'created_time is unix seconds', variant((o) => (o.created_time = 1794399360))],
      ['pay_time', 'pay_time is not a time', variant((o) => (o.pay_time = '2026-11-11'))],
      ['receiver_name', 'receiver_name is a number', variant((o) => (o.receiver_name = 1))],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });
  });

  describe('pull', () => {
    it('asks for orders updated since the cursor', () => {
      expect(pinduoduo.pull.request('https://gw.example/pdd', null).url).toBe(
        'https://gw.example/pdd/order/increment',
      );
      expect(pinduoduo.pull.request('https://gw.example/pdd', '1794399360').url).toBe(
        'https://gw.example/pdd/order/increment?updated_after=1794399360',
      );
    });

    const reply = (response: unknown) => ({ order_sn_increment_get_response: response });

    it('reads a page of orders and the next cursor', () => {
      expect(pinduoduo.pull.parse(reply({ order_sn_list: [sample], next_cursor: 1794399400 }))).toEqual({
        orders: [sample],
        nextCursor: '1794399400',
      });
      expect(pinduoduo.pull.parse(reply({ order_sn_list: [], next_cursor: null }))).toEqual({
        orders: [],
        nextCursor: null,
      });
    });

    it.each<[string, string, unknown]>([
      ['$', 'the reply is a list', []],
      ['order_sn_increment_get_response', 'it is an error reply', { error_response: { error_code: 10019 } }],
      ['order_sn_increment_get_response.order_sn_list', 'the list is missing', reply({ next_cursor: 'x' })],
      [
        'order_sn_increment_get_response.order_sn_list',
        'the list is an object',
        reply({ order_sn_list: {} }),
      ],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => pinduoduo.pull.parse(body)).fieldPath).toBe(path);
    });
  });
});
