import { describe, expect, it } from 'vitest';
import { jd } from '../../connectors/jd.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown, variantOf } from '../support/connector-cases.js';
import { sample as loadSample } from '../support/webhooks.js';

const sample = loadSample('jd');

const variant = variantOf(sample);

const mappingError = (payload: unknown) => thrown(() => jd.toOrder(payload));

/** An item as JD sends it. */
function item(fields: Record<string, unknown>) {
  return {
    skuId: '100000000001',
    outerSkuId: 'CODE',
    skuName: 'x',
    itemTotal: '1',
    jdPrice: '1.00',
    ...fields,
  };
}

/** The sample with only `items` and no order amounts, so the total is the lines' sum. */
function withItems(...items: unknown[]) {
  return variant((o) => {
    o.itemInfoList = items;
    delete o.orderPayment;
    delete o.orderTotalPrice;
  });
}

describe('JD connector', () => {
  it('is the JD connector', () => {
    expect(jd.platform).toBe(Platform.JD);
  });

  it('maps the sample order, every field', () => {
    expect(jd.toOrder(variant())).toEqual({
      externalId: '290112345678',
      status: OrderStatus.PAID,
      platformStatus: 'WAIT_SELLER_STOCK_OUT',
      customerName: '李雷',
      shippingAddress: {
        name: '李雷',
        phone: '13900000000',
        province: '北京',
        city: '北京市',
        district: '朝阳区',
        line1: '北京朝阳区建国路 1 号国贸大厦 A 座',
        postalCode: null,
        country: 'CN',
      },
      lines: [
        {
          productCode: 'TEA-250G',
          platformSkuId: '100012345678',
          quantity: 2,
          unitPrice: '99.00',
          lineTotal: '198.00',
        },
      ],
      total: '198.00',
      currencyCode: 'CNY',
      placedAt: new Date('2026-11-11T12:15:40Z'),
      paidAt: new Date('2026-11-11T12:15:58Z'),
    });
  });

  it('takes a numeric orderId as a string', () => {
    expect(jd.toOrder(variant((o) => (o.orderId = 290112345678))).externalId).toBe('290112345678');
  });

  describe('lines', () => {
    it('maps several lines', () => {
      const order = jd.toOrder(
        variant((o) => o.itemInfoList.push(item({ skuId: '100099', outerSkuId: 'MILK-1L', itemTotal: '3' }))),
      );
      expect(order.lines).toEqual([
        {
          productCode: 'TEA-250G',
          platformSkuId: '100012345678',
          quantity: 2,
          unitPrice: '99.00',
          lineTotal: '198.00',
        },
        {
          productCode: 'MILK-1L',
          platformSkuId: '100099',
          quantity: 3,
          unitPrice: '1.00',
          lineTotal: '3.00',
        },
      ]);
    });

    it('reads the quantity from its string, and from a number too', () => {
      expect(jd.toOrder(variant((o) => (o.itemInfoList[0].itemTotal = ' 12 '))).lines[0].quantity).toBe(12);
      expect(jd.toOrder(variant((o) => (o.itemInfoList[0].itemTotal = 3))).lines[0].quantity).toBe(3);
    });

    it('leaves productCode null and keeps the sku id when outerSkuId is empty', () => {
      const order = jd.toOrder(variant((o) => (o.itemInfoList[0].outerSkuId = '')));
      expect(order.lines[0]).toMatchObject({ productCode: null, platformSkuId: '100012345678' });
    });
  });

  describe('status', () => {
    it.each([
      ['WAIT_SELLER_STOCK_OUT', OrderStatus.PAID],
      ['WAIT_SELLER_DELIVERY', OrderStatus.PAID],
      ['WAIT_GOODS_RECEIVE_CONFIRM', OrderStatus.SHIPPED],
      ['SEND_TO_DISTRIBUTION_CENER', OrderStatus.SHIPPED],
      ['DISTRIBUTION_CENTER_RECEIVED', OrderStatus.SHIPPED],
      ['FINISHED_L', OrderStatus.DELIVERED],
      ['RECEIPTS_CONFIRM', OrderStatus.DELIVERED],
      ['TRADE_CANCELED', OrderStatus.CANCELLED],
      ['LOCKED', null],
      ['PAUSE', null],
    ])('%s is %s', (platformStatus, status) => {
      const order = jd.toOrder(variant((o) => (o.orderState = platformStatus)));
      expect(order.status).toBe(status);
      expect(order.platformStatus).toBe(platformStatus);
    });

    it('refuses a status the table does not know, naming the value', () => {
      expect(mappingError(variant((o) => (o.orderState = 'WAIT_BUYER_PAY'))).message).toBe(
        'Payload field "orderState" has an unknown status "WAIT_BUYER_PAY".',
      );
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: pay time, phone, district', () => {
      const order = jd.toOrder(
        variant((o) => {
          delete o.paymentConfirmTime;
          delete o.consigneeInfo.mobile;
          delete o.consigneeInfo.county;
        }),
      );
      expect(order.paidAt).toBeNull();
      expect(order.shippingAddress).toMatchObject({ phone: null, district: null, postalCode: null });
    });

    it('takes the landline telephone when there is no mobile', () => {
      const order = jd.toOrder(
        variant((o) => {
          o.consigneeInfo.mobile = '';
          o.consigneeInfo.telephone = '010-88880000';
        }),
      );
      expect(order.shippingAddress.phone).toBe('010-88880000');
    });

    it('keeps masked and encrypted values as they came', () => {
      const order = jd.toOrder(
        variant((o) => {
          o.consigneeInfo.fullname = '李*';
          o.consigneeInfo.mobile = '139****0000';
          o.consigneeInfo.fullAddress = '$JD$ZW5jcnlwdGVk$1$';
        }),
      );
      expect(order.customerName).toBe('李*');
      expect(order.shippingAddress).toMatchObject({
        name: '李*',
        phone: '139****0000',
        line1: '$JD$ZW5jcnlwdGVk$1$',
      });
    });
  });

  describe('money', () => {
    it('takes orderPayment as the total, else orderTotalPrice, else the lines', () => {
      expect(jd.toOrder(variant((o) => (o.orderPayment = '190.00'))).total).toBe('190.00');
      expect(jd.toOrder(variant((o) => (delete o.orderPayment, (o.orderTotalPrice = '205.00')))).total).toBe(
        '205.00',
      );
      expect(jd.toOrder(withItems(item({ jdPrice: '99.00', itemTotal: '2' }))).total).toBe('198.00');
    });

    it('adds 0.10 and 0.20 exactly to 0.30', () => {
      expect(jd.toOrder(withItems(item({ jdPrice: '0.10' }), item({ jdPrice: '0.20' }))).total).toBe('0.30');
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = jd.toOrder(withItems(item({ jdPrice: '19.99', itemTotal: '3' })));
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });
  });

  describe('time (Asia/Shanghai local, stored in UTC)', () => {
    it('moves a time after midnight in Shanghai to the day before in UTC', () => {
      const order = jd.toOrder(
        variant((o) => {
          o.orderStartTime = '2026-11-12 01:00:00';
          o.paymentConfirmTime = '2026-11-12 01:00:30';
        }),
      );
      expect(order.placedAt).toEqual(new Date('2026-11-11T17:00:00Z'));
      expect(order.paidAt).toEqual(new Date('2026-11-11T17:00:30Z'));
    });
  });

  describe('bad payloads', () => {
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['$', 'the payload is a number', 290112345678],
      ['orderId', 'orderId is missing', variant((o) => delete o.orderId)],
      ['orderId', 'orderId is an unsafe number', variant((o) => (o.orderId = 2 ** 60))],
      ['orderState', 'orderState is missing', variant((o) => delete o.orderState)],
      ['orderState', 'orderState is unknown', variant((o) => (o.orderState = 'SHIPPED'))],
      ['consigneeInfo', 'consigneeInfo is missing', variant((o) => delete o.consigneeInfo)],
      ['consigneeInfo', 'consigneeInfo is a string', variant((o) => (o.consigneeInfo = '李雷 北京'))],
      ['consigneeInfo.fullname', 'there is no name', variant((o) => delete o.consigneeInfo.fullname)],
      [
        'consigneeInfo.fullAddress',
        'there is no address',
        variant((o) => (o.consigneeInfo.fullAddress = ' ')),
      ],
      ['itemInfoList', 'itemInfoList is missing', variant((o) => delete o.itemInfoList)],
      ['itemInfoList', 'there are no items', variant((o) => (o.itemInfoList = []))],
      ['itemInfoList', 'itemInfoList is an object', variant((o) => (o.itemInfoList = item({})))],
      ['itemInfoList[0]', 'the items are numbers', variant((o) => (o.itemInfoList = [1]))],
      [
        'itemInfoList[0].itemTotal',
        'itemTotal is "abc"',
        variant((o) => (o.itemInfoList[0].itemTotal = 'abc')),
      ],
      ['itemInfoList[0].itemTotal', 'itemTotal is "0"', variant((o) => (o.itemInfoList[0].itemTotal = '0'))],
      [
        'itemInfoList[0].itemTotal',
        'itemTotal is "-1"',
        variant((o) => (o.itemInfoList[0].itemTotal = '-1')),
      ],
      [
        'itemInfoList[0].itemTotal',
        'itemTotal is "1.5"',
        variant((o) => (o.itemInfoList[0].itemTotal = '1.5')),
      ],
      ['itemInfoList[0].itemTotal', 'itemTotal is 0', variant((o) => (o.itemInfoList[0].itemTotal = 0))],
      [
        'itemInfoList[1].itemTotal',
        'a second item has no itemTotal',
        variant((o) => o.itemInfoList.push(item({ itemTotal: undefined }))),
      ],
      ['itemInfoList[0].jdPrice', 'jdPrice is "abc"', variant((o) => (o.itemInfoList[0].jdPrice = 'abc'))],
      [
        'itemInfoList[0].jdPrice',
        'jdPrice is negative',
        variant((o) => (o.itemInfoList[0].jdPrice = '-99.00')),
      ],
      ['itemInfoList[0].skuId', 'skuId is an object', variant((o) => (o.itemInfoList[0].skuId = {}))],
      ['orderPayment', 'orderPayment is not an amount', variant((o) => (o.orderPayment = '198,00'))],
      [
        'orderTotalPrice',
        'orderTotalPrice, the fallback, is negative',
        variant((o) => (delete o.orderPayment, (o.orderTotalPrice = '-1'))),
      ],
      ['orderStartTime', 'orderStartTime is missing', variant((o) => delete o.orderStartTime)],
      [
        'orderStartTime',
        'orderStartTime has no seconds',
        variant((o) => (o.orderStartTime = '2026-11-11 20:15')),
      ],
      [
        'orderStartTime',
        'orderStartTime is 13th month',
        variant((o) => (o.orderStartTime = '2026-13-01 00:00:00')),
      ],
      ['paymentConfirmTime', 'paymentConfirmTime is a number', variant((o) => (o.paymentConfirmTime = 0))],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });
  });

  describe('pull', () => {
    it('asks for orders updated since the cursor', () => {
      expect(jd.pull.request('https://gw.example/jd', null).url).toBe(
        'https://gw.example/jd/pop/order/search',
      );
      expect(jd.pull.request('https://gw.example/jd', 'c/1').url).toBe(
        'https://gw.example/jd/pop/order/search?updated_after=c%2F1',
      );
      expect(jd.pull.request('https://gw.example/jd', null).init).toEqual({
        method: 'GET',
        headers: { accept: 'application/json' },
      });
    });

    const reply = (result: unknown) => ({
      jingdong_pop_order_search_responce: { searchorderinfo_result: result },
    });

    it('reads a page of orders and the next cursor', () => {
      expect(jd.pull.parse(reply({ orderInfoList: [sample], nextCursor: 'n2' }))).toEqual({
        orders: [sample],
        nextCursor: 'n2',
      });
      expect(jd.pull.parse(reply({ orderInfoList: [] }))).toEqual({ orders: [], nextCursor: null });
    });

    it.each<[string, string, unknown]>([
      ['$', 'the reply is a string', 'ok'],
      [
        'jingdong_pop_order_search_responce',
        'the envelope is missing',
        { error_response: { zh_desc: '失败' } },
      ],
      [
        'jingdong_pop_order_search_responce.searchorderinfo_result',
        'the result is missing',
        { jingdong_pop_order_search_responce: {} },
      ],
      [
        'jingdong_pop_order_search_responce.searchorderinfo_result.orderInfoList',
        'the list is missing',
        reply({}),
      ],
      [
        'jingdong_pop_order_search_responce.searchorderinfo_result.nextCursor',
        'the cursor is a list',
        reply({ orderInfoList: [], nextCursor: [] }),
      ],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => jd.pull.parse(body)).fieldPath).toBe(path);
    });
  });
});
