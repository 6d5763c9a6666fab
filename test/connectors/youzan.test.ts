import { describe, expect, it } from 'vitest';
import { youzan } from '../../connectors/youzan.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown } from '../support/connector-cases.js';
import { sample as loadSample } from '../support/webhooks.js';

const sample = loadSample('youzan');

/** The sample's `full_order_info`, deep-cloned and changed by `change`, in its envelope. */
function variant(change: (full: any) => void = () => {}): any {
  const payload = structuredClone(sample);
  change(payload.full_order_info);
  return payload;
}

const mappingError = (payload: unknown) => thrown(() => youzan.toOrder(payload));

/** A line as Youzan sends it. */
function item(fields: Record<string, unknown>) {
  return { oid: '1', outer_sku_id: 'CODE', sku_id: 1, title: 'x', num: 1, price: '1.00', ...fields };
}

/** The sample with only `items` and no pay_info, so the total is the lines' sum. */
function withItems(...items: unknown[]) {
  return variant((f) => {
    f.orders = items;
    delete f.pay_info;
  });
}

describe('Youzan connector', () => {
  it('is the YOUZAN connector', () => {
    expect(youzan.platform).toBe(Platform.YOUZAN);
  });

  it('maps the sample order, every field', () => {
    expect(youzan.toOrder(variant())).toEqual({
      externalId: 'E20261111201530012345',
      status: OrderStatus.PAID,
      platformStatus: 'WAIT_SELLER_SEND_GOODS',
      customerName: '周杰',
      shippingAddress: {
        name: '周杰',
        phone: '13500000000',
        province: '新疆维吾尔自治区',
        city: '乌鲁木齐市',
        district: '天山区',
        line1: '解放北路 20 号',
        postalCode: '830000',
        country: 'CN',
      },
      lines: [
        {
          productCode: 'ICECREAM-BOX',
          platformSkuId: '3301',
          platformLineId: '2861234',
          quantity: 1,
          unitPrice: '88.00',
          lineTotal: '88.00',
        },
      ],
      total: '88.00',
      currencyCode: 'CNY',
      placedAt: new Date('2026-11-11T12:15:30Z'),
      paidAt: new Date('2026-11-11T12:15:45Z'),
      contactPhone: '13500000000',
    });
  });

  it('takes no contact phone from a masked or encrypted receiver_tel', () => {
    for (const tel of ['135****0000', '$135****0000$1$abcdef$']) {
      const order = youzan.toOrder(variant((f) => (f.address_info.receiver_tel = tel)));
      expect(order.contactPhone).toBeNull();
      expect(order.shippingAddress.phone).toBe(tel);
    }
  });

  describe('lines', () => {
    it('maps several lines', () => {
      const order = youzan.toOrder(
        variant((f) =>
          f.orders.push(item({ outer_sku_id: 'MILK-1L', sku_id: 3302, num: 2, price: '12.50' })),
        ),
      );
      expect(order.lines).toEqual([
        {
          productCode: 'ICECREAM-BOX',
          platformSkuId: '3301',
          platformLineId: '2861234',
          quantity: 1,
          unitPrice: '88.00',
          lineTotal: '88.00',
        },
        {
          productCode: 'MILK-1L',
          platformSkuId: '3302',
          platformLineId: '1',
          quantity: 2,
          unitPrice: '12.50',
          lineTotal: '25.00',
        },
      ]);
    });

    it('leaves productCode null and keeps the sku id when outer_sku_id is empty', () => {
      const order = youzan.toOrder(variant((f) => (f.orders[0].outer_sku_id = '')));
      expect(order.lines[0]).toMatchObject({ productCode: null, platformSkuId: '3301' });
    });
  });

  describe('status', () => {
    it.each([
      ['WAIT_BUYER_PAY', OrderStatus.PENDING_PAYMENT],
      ['TRADE_PAID', OrderStatus.PAID],
      ['WAIT_CONFIRM', OrderStatus.PAID],
      ['WAIT_SELLER_SEND_GOODS', OrderStatus.PAID],
      ['WAIT_BUYER_CONFIRM_GOODS', OrderStatus.SHIPPED],
      ['TRADE_SUCCESS', OrderStatus.DELIVERED],
    ])('%s is %s', (platformStatus, status) => {
      const order = youzan.toOrder(variant((f) => (f.order_info.status = platformStatus)));
      expect(order.status).toBe(status);
      expect(order.platformStatus).toBe(platformStatus);
    });

    it('TRADE_CLOSED after payment is REFUNDED', () => {
      const order = youzan.toOrder(variant((f) => (f.order_info.status = 'TRADE_CLOSED')));
      expect(order.status).toBe(OrderStatus.REFUNDED);
      expect(order.platformStatus).toBe('TRADE_CLOSED');
    });

    it.each([
      ['absent', undefined],
      ['empty', ''],
    ])('TRADE_CLOSED before payment (pay_time %s) is CANCELLED', (_, payTime) => {
      const order = youzan.toOrder(
        variant((f) => {
          f.order_info.status = 'TRADE_CLOSED';
          f.order_info.pay_time = payTime;
        }),
      );
      expect(order.status).toBe(OrderStatus.CANCELLED);
      expect(order.paidAt).toBeNull();
    });

    it('refuses a status the table does not know, naming the value', () => {
      expect(mappingError(variant((f) => (f.order_info.status = 'TRADE_CLOSED_BY_USER'))).message).toBe(
        'Payload field "full_order_info.order_info.status" has an unknown status "TRADE_CLOSED_BY_USER".',
      );
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: pay time, phone, postal code, district', () => {
      const order = youzan.toOrder(
        variant((f) => {
          delete f.order_info.pay_time;
          delete f.address_info.receiver_tel;
          delete f.address_info.delivery_postal_code;
          delete f.address_info.delivery_district;
        }),
      );
      expect(order.paidAt).toBeNull();
      expect(order.shippingAddress).toMatchObject({ phone: null, postalCode: null, district: null });
    });

    it('keeps encrypted values ($…$1$) as they came', () => {
      const order = youzan.toOrder(
        variant((f) => {
          f.address_info.receiver_name = '$周*$ZW5jbmFtZQ==$1$';
          f.address_info.receiver_tel = '$135****0000$ZW5jdGVs$1$';
          f.address_info.delivery_address = '$解放北路**$ZW5jYWRkcg==$1$';
        }),
      );
      expect(order.customerName).toBe('$周*$ZW5jbmFtZQ==$1$');
      expect(order.shippingAddress).toMatchObject({
        name: '$周*$ZW5jbmFtZQ==$1$',
        phone: '$135****0000$ZW5jdGVs$1$',
        line1: '$解放北路**$ZW5jYWRkcg==$1$',
      });
    });

    it("falls back to the buyer's fans nickname when the consignee has no name", () => {
      const order = youzan.toOrder(variant((f) => delete f.address_info.receiver_name));
      expect(order.customerName).toBe('小周');
      expect(order.shippingAddress.name).toBeNull();
    });

    it('needs some name', () => {
      const error = mappingError(variant((f) => (delete f.address_info.receiver_name, delete f.buyer_info)));
      expect(error.fieldPath).toBe('full_order_info.address_info.receiver_name');
    });
  });

  describe('money', () => {
    it('takes pay_info.payment as the total, else the sum of the lines', () => {
      expect(youzan.toOrder(variant((f) => (f.pay_info.payment = '80.00'))).total).toBe('80.00');
      expect(youzan.toOrder(variant((f) => delete f.pay_info.payment)).total).toBe('88.00');
    });

    it('adds 0.10 and 0.20 exactly to 0.30', () => {
      expect(youzan.toOrder(withItems(item({ price: '0.10' }), item({ price: '0.20' }))).total).toBe('0.30');
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = youzan.toOrder(withItems(item({ price: '19.99', num: 3 })));
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });
  });

  describe('time (Asia/Shanghai local, stored in UTC)', () => {
    it('moves a time after midnight in Shanghai to the day before in UTC', () => {
      const order = youzan.toOrder(variant((f) => (f.order_info.created = '2026-11-12 01:00:00')));
      expect(order.placedAt).toEqual(new Date('2026-11-11T17:00:00Z'));
    });
  });

  describe('bad payloads', () => {
    const info = 'full_order_info.order_info';
    const address = 'full_order_info.address_info';
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['full_order_info', 'the envelope is missing (the bare order sent)', sample.full_order_info],
      ['full_order_info', 'full_order_info is a string', { full_order_info: '{}' }],
      ['full_order_info.order_info', 'order_info is missing', variant((f) => delete f.order_info)],
      [`${info}.tid`, 'tid is missing', variant((f) => delete f.order_info.tid)],
      [`${info}.tid`, 'tid is an unsafe number', variant((f) => (f.order_info.tid = 2 ** 60))],
      [`${info}.status`, 'status is missing', variant((f) => delete f.order_info.status)],
      [`${info}.created`, 'created is missing', variant((f) => delete f.order_info.created)],
      [
        `${info}.created`,
        'created has a slash date',
        variant((f) => (f.order_info.created = '2026/11/11 20:15:30')),
      ],
      [
        `${info}.pay_time`,
        'pay_time is 31 April',
        variant((f) => (f.order_info.pay_time = '2026-04-31 10:00:00')),
      ],
      [address, 'address_info is missing', variant((f) => delete f.address_info)],
      [
        `${address}.delivery_address`,
        'there is no address line',
        variant((f) => delete f.address_info.delivery_address),
      ],
      [
        `${address}.delivery_postal_code`,
        'the postal code is a number',
        variant((f) => (f.address_info.delivery_postal_code = 830000)),
      ],
      [
        'full_order_info.buyer_info',
        'buyer_info is a string',
        variant((f) => (delete f.address_info.receiver_name, (f.buyer_info = 'x'))),
      ],
      ['full_order_info.pay_info', 'pay_info is a list', variant((f) => (f.pay_info = []))],
      [
        'full_order_info.pay_info.payment',
        'payment is negative',
        variant((f) => (f.pay_info.payment = '-88.00')),
      ],
      ['full_order_info.orders', 'orders is missing', variant((f) => delete f.orders)],
      ['full_order_info.orders', 'there are no lines', variant((f) => (f.orders = []))],
      ['full_order_info.orders[0]', 'the lines are null', variant((f) => (f.orders = [null]))],
      [
        'full_order_info.orders[1].num',
        'a second line has num -1',
        variant((f) => f.orders.push(item({ num: -1 }))),
      ],
      ['full_order_info.orders[0].num', 'num is "abc"', variant((f) => (f.orders[0].num = 'abc'))],
      ['full_order_info.orders[0].price', 'price is a number', variant((f) => (f.orders[0].price = 88))],
      [
        'full_order_info.orders[0].price',
        'price is "88.00 元"',
        variant((f) => (f.orders[0].price = '88.00 元')),
      ],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });
  });

  describe('pull', () => {
    it('asks for trades updated since the cursor', () => {
      expect(youzan.pull.request('https://gw.example/youzan', null).url).toBe(
        'https://gw.example/youzan/trades/sold',
      );
      expect(youzan.pull.request('https://gw.example/youzan', '2026-11-11 20:00:00').url).toBe(
        'https://gw.example/youzan/trades/sold?update_time_start=2026-11-11%2020%3A00%3A00',
      );
    });

    it('reads a page of orders, each a payload for toOrder, and the next cursor', () => {
      const page = youzan.pull.parse({
        success: true,
        data: { full_order_info_list: [sample], next_cursor: 'n2' },
      });
      expect(page).toEqual({ orders: [sample], nextCursor: 'n2' });
      expect(youzan.toOrder(page.orders[0]).externalId).toBe('E20261111201530012345');
      expect(youzan.pull.parse({ data: { full_order_info_list: [] } })).toEqual({
        orders: [],
        nextCursor: null,
      });
    });

    it.each<[string, string, unknown]>([
      ['$', 'the reply is null', null],
      ['data', 'it is an error reply', { success: false, code: 4203, message: 'token expired' }],
      ['data.full_order_info_list', 'the list is missing', { data: {} }],
      [
        'data.next_cursor',
        'the cursor is a fraction',
        { data: { full_order_info_list: [], next_cursor: 1.5 } },
      ],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => youzan.pull.parse(body)).fieldPath).toBe(path);
    });
  });
});
