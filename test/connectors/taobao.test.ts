import { describe, expect, it } from 'vitest';
import { taobao } from '../../connectors/taobao.js';
import { OrderStatus, Platform } from '../../common/enums.js';
import { thrown, variantOf } from '../support/connector-cases.js';
import { sample as loadSample } from '../support/webhooks.js';

const sample = loadSample('taobao');

const variant = variantOf(sample);

const mappingError = (payload: unknown) => thrown(() => taobao.toOrder(payload));

/** An order line as Taobao sends it. */
function orderLine(fields: Record<string, unknown>) {
  return { oid_str: '1', sku_id: '7001', outer_sku_id: 'CODE', num: 1, price: '1.00', ...fields };
}

describe('Taobao connector', () => {
  it('is the TAOBAO connector', () => {
    expect(taobao.platform).toBe(Platform.TAOBAO);
  });

  it('maps the sample trade, every field', () => {
    expect(taobao.toOrder(variant())).toEqual({
      externalId: '3487216655190412345',
      status: OrderStatus.PAID,
      platformStatus: 'WAIT_SELLER_SEND_GOODS',
      customerName: 't**小王',
      shippingAddress: {
        name: '王小明',
        phone: '13800000000',
        province: '浙江省',
        city: '杭州市',
        district: '西湖区',
        line1: '文三路 100 号 3 单元 502',
        postalCode: '310000',
        country: 'CN',
      },
      lines: [
        {
          productCode: 'MILK-1L',
          platformSkuId: '5011223344',
          platformLineId: '3487216655190412346',
          quantity: 2,
          unitPrice: '129.90',
          lineTotal: '259.80',
        },
      ],
      total: '259.80',
      currencyCode: 'CNY',
      placedAt: new Date('2026-11-11T12:15:32Z'),
      paidAt: new Date('2026-11-11T12:16:01Z'),
    });
  });

  describe('the order id', () => {
    it('is tid_str, never the number tid that JSON.parse already changed', () => {
      expect(String(sample.tid)).not.toBe('3487216655190412345');
      expect(taobao.toOrder(variant()).externalId).toBe('3487216655190412345');
    });

    it('is a safe numeric tid as a string when tid_str is absent', () => {
      const trade = variant((t) => {
        delete t.tid_str;
        t.tid = 12345;
      });
      expect(taobao.toOrder(trade).externalId).toBe('12345');
    });

    it('is refused when only an unsafe numeric tid is left, naming tid and pointing at tid_str', () => {
      const error = mappingError(variant((t) => delete t.tid_str));
      expect(error.fieldPath).toBe('tid');
      expect(error.message).toMatch(/^Payload field "tid" is a number beyond 2\^53 .*send tid_str\.$/);
    });
  });

  describe('lines', () => {
    it('maps several lines, the order total being Taobao payment', () => {
      const order = taobao.toOrder(
        variant((t) => {
          t.orders.order.push(
            orderLine({ sku_id: '5011223399', outer_sku_id: 'TEA-250G', num: 3, price: '99.00' }),
          );
          t.payment = '556.80';
        }),
      );
      expect(order.lines).toEqual([
        {
          productCode: 'MILK-1L',
          platformSkuId: '5011223344',
          platformLineId: '3487216655190412346',
          quantity: 2,
          unitPrice: '129.90',
          lineTotal: '259.80',
        },
        {
          productCode: 'TEA-250G',
          platformSkuId: '5011223399',
          platformLineId: '1',
          quantity: 3,
          unitPrice: '99.00',
          lineTotal: '297.00',
        },
      ]);
      expect(order.total).toBe('556.80');
    });

    it('keeps Taobao payment as the total even when it differs from the lines (freight, discounts)', () => {
      expect(taobao.toOrder(variant((t) => (t.payment = '250.00'))).total).toBe('250.00');
    });

    it('leaves productCode null and keeps the sku id for the SKU map when outer_sku_id is empty or absent', () => {
      for (const outer of ['', '   ', null, undefined]) {
        const order = taobao.toOrder(variant((t) => (t.orders.order[0].outer_sku_id = outer)));
        expect(order.lines[0]).toMatchObject({ productCode: null, platformSkuId: '5011223344' });
      }
    });

    it("takes an item without SKUs by its item's merchant code, outer_iid", () => {
      const order = taobao.toOrder(
        variant((t) => {
          const line = t.orders.order[0];
          delete line.sku_id;
          delete line.outer_sku_id;
          line.outer_iid = 'MILK-1L';
        }),
      );
      expect(order.lines[0]).toMatchObject({ productCode: 'MILK-1L', platformSkuId: null });
    });

    it("never takes outer_iid for an item with SKUs: it is the item's code, not the SKU's", () => {
      const order = taobao.toOrder(
        variant((t) => {
          delete t.orders.order[0].outer_sku_id;
          t.orders.order[0].outer_iid = 'MILK';
        }),
      );
      expect(order.lines[0]).toMatchObject({ productCode: null, platformSkuId: '5011223344' });
    });
  });

  describe('status', () => {
    it.each([
      ['WAIT_BUYER_PAY', OrderStatus.PENDING_PAYMENT],
      ['TRADE_NO_CREATE_PAY', OrderStatus.PENDING_PAYMENT],
      ['PAY_PENDING', OrderStatus.PENDING_PAYMENT],
      ['WAIT_SELLER_SEND_GOODS', OrderStatus.PAID],
      ['SELLER_CONSIGNED_PART', OrderStatus.PAID],
      ['PAID_FORBID_CONSIGN', OrderStatus.PAID],
      ['WAIT_PRE_AUTH_CONFIRM', OrderStatus.PAID],
      ['WAIT_BUYER_CONFIRM_GOODS', OrderStatus.SHIPPED],
      ['TRADE_FINISHED', OrderStatus.DELIVERED],
      ['TRADE_BUYER_SIGNED', OrderStatus.DELIVERED],
      ['TRADE_CLOSED_BY_TAOBAO', OrderStatus.CANCELLED],
      ['TRADE_CLOSED', OrderStatus.REFUNDED],
    ])('%s is %s', (platformStatus, status) => {
      const order = taobao.toOrder(variant((t) => (t.status = platformStatus)));
      expect(order.status).toBe(status);
      expect(order.platformStatus).toBe(platformStatus);
    });

    it('refuses a status the table does not know, naming the value', () => {
      const error = mappingError(variant((t) => (t.status = 'TRADE_ON_HOLD')));
      expect(error.fieldPath).toBe('status');
      expect(error.message).toBe('Payload field "status" has an unknown status "TRADE_ON_HOLD".');
    });
  });

  describe('customer and address', () => {
    it('leaves out what was not sent: pay time, phone, postal code, district', () => {
      const order = taobao.toOrder(
        variant((t) => {
          delete t.pay_time;
          delete t.receiver_mobile;
          delete t.receiver_zip;
          t.receiver_district = '';
        }),
      );
      expect(order.paidAt).toBeNull();
      expect(order.shippingAddress).toMatchObject({ phone: null, postalCode: null, district: null });
    });

    it('takes the landline receiver_phone when there is no mobile', () => {
      const trade = variant((t) => {
        delete t.receiver_mobile;
        t.receiver_phone = '0571-88880000';
      });
      expect(taobao.toOrder(trade).shippingAddress.phone).toBe('0571-88880000');
    });

    it('keeps masked and encrypted values as they came', () => {
      const order = taobao.toOrder(
        variant((t) => {
          t.buyer_nick = 'x**';
          t.receiver_name = '王**';
          t.receiver_mobile = '$138****0000$AAE=$1$';
        }),
      );
      expect(order.customerName).toBe('x**');
      expect(order.shippingAddress).toMatchObject({ name: '王**', phone: '$138****0000$AAE=$1$' });
    });

    it("falls back to the receiver's name when there is no buyer nick", () => {
      expect(taobao.toOrder(variant((t) => delete t.buyer_nick)).customerName).toBe('王小明');
    });

    it('needs some name: neither buyer nick nor receiver name is an error naming buyer_nick', () => {
      const error = mappingError(
        variant((t) => {
          delete t.buyer_nick;
          t.receiver_name = '';
        }),
      );
      expect(error.fieldPath).toBe('buyer_nick');
      expect(error.message).toBe('Payload field "buyer_nick" is missing, and so are receiver_name.');
    });
  });

  describe('money', () => {
    it('adds 0.10 and 0.20 exactly to 0.30 when Taobao sends no payment', () => {
      const order = taobao.toOrder(
        variant((t) => {
          delete t.payment;
          t.orders.order = [orderLine({ price: '0.10' }), orderLine({ price: '0.20' })];
        }),
      );
      expect(order.total).toBe('0.30');
    });

    it('multiplies 19.99 × 3 exactly to 59.97', () => {
      const order = taobao.toOrder(
        variant((t) => {
          delete t.payment;
          t.orders.order = [orderLine({ price: '19.99', num: 3 })];
        }),
      );
      expect(order.lines[0].lineTotal).toBe('59.97');
      expect(order.total).toBe('59.97');
    });

    it('writes every amount with two decimals', () => {
      const order = taobao.toOrder(
        variant((t) => {
          t.payment = '7';
          t.orders.order = [orderLine({ price: '3.5', num: 2 })];
        }),
      );
      expect(order.lines[0]).toMatchObject({ unitPrice: '3.50', lineTotal: '7.00' });
      expect(order.total).toBe('7.00');
    });

    it('takes a free line: 0.00', () => {
      const order = taobao.toOrder(variant((t) => t.orders.order.push(orderLine({ price: '0.00' }))));
      expect(order.lines[1]).toMatchObject({ unitPrice: '0.00', lineTotal: '0.00' });
    });
  });

  describe('time (Asia/Shanghai local, stored in UTC)', () => {
    it.each([
      ['2026-11-12 01:00:00', '2026-11-11T17:00:00.000Z'],
      ['2027-01-01 07:59:59', '2026-12-31T23:59:59.000Z'],
      ['2028-02-29 08:00:00', '2028-02-29T00:00:00.000Z'],
    ])('%s is %s', (local, utc) => {
      expect(taobao.toOrder(variant((t) => (t.created = local))).placedAt.toISOString()).toBe(utc);
    });
  });

  describe('bad payloads', () => {
    it.each<[string, string, unknown]>([
      ['$', 'the payload is null', null],
      ['$', 'the payload is a string', 'trade'],
      ['$', 'the payload is an array', [sample]],
      ['tid_str', 'tid_str is an object', variant((t) => (t.tid_str = {}))],
      ['tid_str', 'there is no id at all', variant((t) => (delete t.tid_str, delete t.tid))],
      ['status', 'there is no status', variant((t) => delete t.status)],
      ['status', 'the status is a boolean', variant((t) => (t.status = true))],
      ['status', 'the status is an unknown number', variant((t) => (t.status = 5))],
      ['orders', 'there are no orders', variant((t) => delete t.orders)],
      ['orders', 'orders is a string', variant((t) => (t.orders = 'MILK-1L'))],
      ['orders.order', 'orders.order is an object', variant((t) => (t.orders.order = { num: 1 }))],
      ['orders.order', 'there are no lines', variant((t) => (t.orders.order = []))],
      ['orders.order[0]', 'the lines are numbers', variant((t) => (t.orders.order = [1, 2]))],
      [
        'orders.order[1].num',
        'a second line has num "abc"',
        variant((t) => t.orders.order.push(orderLine({ num: 'abc' }))),
      ],
      ['orders.order[0].num', 'num is 0', variant((t) => (t.orders.order[0].num = 0))],
      ['orders.order[0].num', 'num is -1', variant((t) => (t.orders.order[0].num = -1))],
      ['orders.order[0].num', 'num is 1.5', variant((t) => (t.orders.order[0].num = 1.5))],
      ['orders.order[0].num', 'num is a string', variant((t) => (t.orders.order[0].num = '2'))],
      ['orders.order[0].num', 'num is missing', variant((t) => delete t.orders.order[0].num)],
      ['orders.order[0].price', 'price is missing', variant((t) => delete t.orders.order[0].price)],
      ['orders.order[0].price', 'price is negative', variant((t) => (t.orders.order[0].price = '-1.00'))],
      ['orders.order[0].price', 'price is "abc"', variant((t) => (t.orders.order[0].price = 'abc'))],
      ['orders.order[0].price', 'price is a number', variant((t) => (t.orders.order[0].price = 129.9))],
      [
        'orders.order[0].price',
        'price has three decimals',
        variant((t) => (t.orders.order[0].price = '0.125')),
      ],
      [
        'orders.order[0].price',
        'price is in exponent form',
        variant((t) => (t.orders.order[0].price = '1e3')),
      ],
      [
        'orders.order[0].sku_id',
        'sku_id is an unsafe number',
        variant((t) => (t.orders.order[0].sku_id = 2 ** 60)),
      ],
      ['payment', 'payment is negative', variant((t) => (t.payment = '-259.80'))],
      ['created', 'created is missing', variant((t) => delete t.created)],
      [
        'created',
        'created is in ISO form without an offset',
        variant((t) => (t.created = '2026-11-11T20:15:32')),
      ],
      ['created', 'created is 30 February', variant((t) => (t.created = '2026-02-30 10:00:00'))],
      ['created', 'created is at 24:00', variant((t) => (t.created = '2026-11-11 24:00:00'))],
      ['created', 'created is a number', variant((t) => (t.created = 1794399332))],
      ['pay_time', 'pay_time is not a time', variant((t) => (t.pay_time = 'yesterday'))],
      [
        'buyer_nick',
        'there is no name at all',
        variant((t) => (delete t.buyer_nick, delete t.receiver_name)),
      ],
      ['buyer_nick', 'buyer_nick is a number', variant((t) => (t.buyer_nick = 42))],
      ['receiver_address', 'receiver_address is missing', variant((t) => delete t.receiver_address)],
    ])('names %s when %s', (path, _, payload) => {
      expect(mappingError(payload).fieldPath).toBe(path);
    });

    it('says what is wrong in the message', () => {
      expect(mappingError(variant((t) => (t.orders.order[0].num = 'abc'))).message).toBe(
        'Payload field "orders.order[0].num" must be a positive integer, got "abc".',
      );
      expect(mappingError(null).message).toBe('Payload field "$" must be a JSON object, got null.');
    });
  });

  describe('pull', () => {
    it('asks for trades modified since the cursor', () => {
      expect(taobao.pull.request('https://gw.example/taobao/', null)).toEqual({
        url: 'https://gw.example/taobao/trades',
        init: { method: 'GET', headers: { accept: 'application/json' } },
      });
      expect(taobao.pull.request('https://gw.example/taobao', '2026-11-11 20:00:00').url).toBe(
        'https://gw.example/taobao/trades?modified_after=2026-11-11%2020%3A00%3A00',
      );
    });

    it('reads a page of trades and the next cursor', () => {
      const page = taobao.pull.parse({
        trades_sold_increment_get_response: { trades: { trade: [sample, sample] }, next_cursor: 'c2' },
      });
      expect(page).toEqual({ orders: [sample, sample], nextCursor: 'c2' });
      expect(taobao.toOrder(page.orders[0]).externalId).toBe('3487216655190412345');
    });

    it('reads an empty page (TOP leaves trades out) as no more now', () => {
      expect(taobao.pull.parse({ trades_sold_increment_get_response: {} })).toEqual({
        orders: [],
        nextCursor: null,
      });
    });

    const reply = (response: unknown) => ({ trades_sold_increment_get_response: response });
    it.each<[string, string, unknown]>([
      ['$', 'the reply is null', null],
      [
        'trades_sold_increment_get_response',
        'it is an error reply',
        { error_response: { code: 27, msg: 'Invalid session' } },
      ],
      ['trades_sold_increment_get_response.trades', 'trades is a list', reply({ trades: [] })],
      [
        'trades_sold_increment_get_response.trades.trade',
        'trade is not a list',
        reply({ trades: { trade: {} } }),
      ],
      [
        'trades_sold_increment_get_response.next_cursor',
        'the cursor is an object',
        reply({ next_cursor: {} }),
      ],
    ])('names %s when %s', (path, _, body) => {
      expect(thrown(() => taobao.pull.parse(body)).fieldPath).toBe(path);
    });
  });
});
