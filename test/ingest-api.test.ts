import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from './support/hub.js';
import { sample } from './support/webhooks.js';

const INGEST = `mutation($channelCode: String!, $payload: JSON!) {
  ingestChannelOrder(channelCode: $channelCode, payload: $payload) {
    id externalId status channel { code } lines { productCode quantity product { productCode } } total { amount }
  }
}`;

describe('ingesting through the API', () => {
  let hub: TestHub;
  const keys: Record<string, string> = {};

  beforeAll(async () => {
    hub = await startTestHub('ingest-api');
    await seedChannel(hub.orm, 'douyin-live', Platform.DOUYIN);
    await seedChannel(hub.orm, 'jd-main', Platform.JD);
    await seedProduct(hub.orm, 'MILK-1L', 10);
    await hub.gql(
      `mutation { mapChannelSku(channelCode: "douyin-live", platformSkuId: "1739000000001", productCode: "MILK-1L") }`,
    );
    keys.connector = await hub.apiKey('CONNECTOR', 'douyin-live');
    keys.otherConnector = await hub.apiKey('CONNECTOR', 'jd-main');
    keys.analyst = await hub.apiKey('ANALYST');
    keys.storefront = await hub.apiKey('STOREFRONT', 'douyin-live');
  });

  afterAll(() => hub.close());

  it('maps a Douyin order whose line has no merchant code through the SKU map', async () => {
    const response = await hub.gql<{ ingestChannelOrder: any }>(
      INGEST,
      { channelCode: 'douyin-live', payload: sample('douyin') },
      keys.connector,
    );
    expect(response.errors).toBeUndefined();
    expect(response.data!.ingestChannelOrder).toMatchObject({
      externalId: '6925000000000000001',
      status: 'PAID',
      channel: { code: 'douyin-live' },
      lines: [{ productCode: 'MILK-1L', quantity: 2, product: { productCode: 'MILK-1L' } }],
      total: { amount: '259.80' },
    });
  });

  it('answers the same order again without making a second one', async () => {
    const first = await hub.gql<{ ingestChannelOrder: { id: string } }>(
      INGEST,
      { channelCode: 'douyin-live', payload: sample('douyin') },
      keys.connector,
    );
    const [{ n }] = await hub.orm.em
      .getConnection()
      .execute(`select count(*)::int as n from "order" where external_id = '6925000000000000001'`);
    expect(first.data!.ingestChannelOrder.id).toBeTruthy();
    expect(n).toBe(1);
  });

  it('lets a CONNECTOR key ingest for its own channel only, and no reader ingest at all', async () => {
    const other = await hub.gql(
      INGEST,
      { channelCode: 'douyin-live', payload: sample('douyin') },
      keys.otherConnector,
    );
    expect(errorCodes(other)).toEqual(['FORBIDDEN']);
    for (const reader of [keys.analyst, keys.storefront]) {
      const refused = await hub.gql(
        INGEST,
        { channelCode: 'douyin-live', payload: sample('douyin') },
        reader,
      );
      expect(errorCodes(refused)).toEqual(['FORBIDDEN']);
    }
    expect(errorCodes(await hub.gql(INGEST, { channelCode: 'douyin-live', payload: {} }, null))).toEqual([
      'UNAUTHENTICATED',
    ]);
  });

  it('names the field of a payload it cannot map, and keeps the payload for replay', async () => {
    const payload = sample('douyin');
    payload.sku_order_list[0].item_num = 'two';
    const response = await hub.gql(INGEST, { channelCode: 'douyin-live', payload }, keys.connector);
    expect(errorCodes(response)).toEqual(['BAD_USER_INPUT']);
    expect(response.errors![0].message).toContain('sku_order_list[0].item_num');
    const [row] = await hub.orm.em
      .getConnection()
      .execute(
        `select outcome, source, error from ingest_log where outcome = 'FAILED' order by id desc limit 1`,
      );
    expect(row).toMatchObject({ outcome: 'FAILED', source: 'API' });
    expect(errorCodes(await hub.gql(INGEST, { channelCode: 'nope', payload: {} }))).toEqual(['NOT_FOUND']);
  });
});
