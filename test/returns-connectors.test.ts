import { describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { connectorFor } from '../connectors/index.js';
import { refundFixture } from './support/refunds.js';
import { sample } from './support/webhooks.js';

const MARKETPLACES = ['taobao', 'jd', 'pinduoduo', 'douyin', 'kuaishou', 'youzan', 'shopify'];

describe('telling a pushed refund from a pushed order', () => {
  for (const name of MARKETPLACES) {
    const connector = connectorFor(name.toUpperCase() as Platform);
    it(`${name}: the refund sample is a refund, the order sample is not`, () => {
      expect(connector.isRefund(refundFixture(`channels/refunds/${name}.json`))).toBe(true);
      expect(connector.isRefund(sample(name))).toBe(false);
    });
  }

  it('shopify: the topic header decides when there is one', () => {
    const shopify = connectorFor(Platform.SHOPIFY);
    const refund = refundFixture('channels/refunds/shopify.json');
    expect(shopify.isRefund(sample('shopify'), { 'x-shopify-topic': 'refunds/create' })).toBe(true);
    expect(shopify.isRefund(refund, { 'x-shopify-topic': 'orders/updated' })).toBe(false);
  });

  it('storefront: its canonical refund by refundId', () => {
    const storefront = connectorFor(Platform.STOREFRONT);
    expect(storefront.isRefund({ refundId: 'SF-R-1', externalId: 'SF-1' })).toBe(true);
    expect(storefront.isRefund({ externalId: 'SF-1', lines: [] })).toBe(false);
  });

  it('anything but an object is no refund', () => {
    for (const payload of [null, [], 'refund_id', 42])
      expect(connectorFor(Platform.YOUZAN).isRefund(payload)).toBe(false);
  });
});
