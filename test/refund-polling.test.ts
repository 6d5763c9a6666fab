import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConnectorHealth, IngestionMode, Platform } from '../common/enums.js';
import { createLogger } from '../server/logger.js';
import { RequestContext } from '../services/context.js';
import { PlatformClients } from '../services/platform-client.js';
import { pollChannel } from '../services/polling.js';
import { sqlOf } from './support/after-sale.js';
import {
  asSent,
  rawJson,
  startPullApi,
  type FakePullApi,
  type PulledPlatform,
} from './support/fake-pull-apis.js';
import { seedChannel, seedProduct } from './support/fixtures.js';
import { startTestHub, type TestHub } from './support/hub.js';

/**
 * Refund polling for every polled platform (issue 17): each connector's `refundPull` against a local server that
 * speaks its after-sale list (test/support/fake-pull-apis.ts), on a real PostgreSQL. Kuaishou's is in
 * test/returns-import.test.ts.
 */

let hub: TestHub;
let sql: ReturnType<typeof sqlOf>;
const apis: FakePullApi[] = [];
const clientSets: PlatformClients[] = [];
const logger = createLogger('silent');

beforeAll(async () => {
  hub = await startTestHub('refund-polling');
  sql = sqlOf(hub);
  for (const code of ['MILK-1L', 'TEA-250G', 'SNACK-MIX', 'ICECREAM-BOX'])
    await seedProduct(hub.orm, code, 10);
});

afterEach(async () => {
  for (const clients of clientSets.splice(0)) clients.close();
  await Promise.all(apis.splice(0).map((api) => api.close()));
});

afterAll(async () => {
  await hub?.close();
});

async function pullApi(platform: PulledPlatform, options?: { pageSize?: number }) {
  const api = await startPullApi(platform, options);
  apis.push(api);
  return api;
}

/** A polled channel on the fake, with clients that do not retry (a failure is the platform's answer at once). */
async function polledChannel(code: string, platform: PulledPlatform, api: FakePullApi) {
  const channel = await seedChannel(hub.orm, code, platform as Platform, {
    ingestionModes: [IngestionMode.POLL],
    apiBaseUrl: api.baseUrl,
  });
  const clients = new PlatformClients({ retries: 0 });
  clientSets.push(clients);
  const ctx = () => RequestContext.system(hub.orm.em.fork(), logger, hub.hub.services, 'refund-polling');
  return { channel, poll: () => pollChannel(ctx(), channel, clients) };
}

/** The channel's cases with the order each is attached to (null: none). */
async function returnsOf(code: string) {
  return sql<{ refund_id: string; external_id: string; order_external_id: string | null; status: string }>(
    `select r.refund_id, r.external_id, o.external_id as order_external_id, r.status
     from order_return r join channel c on c.id = r.channel_id left join "order" o on o.id = r.order_id
     where c.code = ? order by r.refund_id`,
    [code],
  );
}

async function refundCursor(code: string): Promise<string | null> {
  const [row] = await sql<{ refund_poll_cursor: string | null }>(
    `select refund_poll_cursor from channel where code = ?`,
    [code],
  );
  return row.refund_poll_cursor;
}

const eventCount = async (code: string) =>
  (
    await sql<{ n: number }>(
      `select count(*)::int as n from order_return_event e join order_return r on r.id = e.return_id
       join channel c on c.id = r.channel_id where c.code = ?`,
      [code],
    )
  )[0].n;

/** Shopify's sample order with its refund embedded, and its updated_at. */
function shopifyOrder(updatedAt: string, refunds: unknown[]) {
  return { ...asSent('channels/shopify.json'), updated_at: updatedAt, refunds };
}

/** Another Shopify order with no refund, changed `minute` minutes after the sample. */
function shopifyFiller(minute: number) {
  const id = 900000000000 + minute;
  return {
    ...asSent('channels/shopify.json'),
    id,
    admin_graphql_api_id: `gid://shopify/Order/${id}`,
    updated_at: new Date(Date.parse('2026-11-16T05:00:00Z') + minute * 60_000).toISOString(),
    refunds: [],
  };
}

// Each platform's sample order and sample after-sale record (docs/after-sale.md), as the platform's lists send them.
const CASES: {
  platform: PulledPlatform;
  refundId: string;
  externalId: string;
  /** Fills the fake with the sample order and its after-sale record. */
  fill(api: FakePullApi): void;
  /** The refund cursor after the first poll. */
  cursor: string;
}[] = [
  {
    platform: 'TAOBAO',
    refundId: '158765432109876543',
    externalId: '3487216655190412345',
    fill: (api) => {
      api.orders.push(asSent('channels/taobao.json'));
      api.refunds.push(asSent('channels/refunds/taobao.json').refund_get_response.refund);
    },
    cursor: '1',
  },
  {
    platform: 'JD',
    refundId: '1876543210',
    externalId: '290112345678',
    fill: (api) => {
      api.orders.push(asSent('channels/jd.json'));
      api.refunds.push(asSent('channels/refunds/jd.json'));
    },
    cursor: '1',
  },
  {
    platform: 'PINDUODUO',
    refundId: '12345678901',
    externalId: '261111-123456789012345',
    fill: (api) => {
      api.orders.push(asSent('channels/pinduoduo.json'));
      api.refunds.push(asSent('channels/refunds/pinduoduo.json'));
    },
    cursor: '1',
  },
  {
    platform: 'DOUYIN',
    refundId: '7378123456789012345',
    externalId: '6925000000000000001',
    fill: (api) => {
      api.orders.push(asSent('channels/douyin.json'));
      api.refunds.push(asSent('channels/refunds/douyin.json'));
    },
    cursor: '1',
  },
  {
    platform: 'YOUZAN',
    refundId: '201911152114037890001',
    externalId: 'E20261111201530012345',
    fill: (api) => {
      api.orders.push(asSent('channels/youzan.json'));
      api.refunds.push(asSent('channels/refunds/youzan.json'));
    },
    cursor: '1',
  },
  {
    // The cursor moves only past a full page (250 orders): the sample, then 249 others changed later.
    platform: 'SHOPIFY',
    // The sample refund names its return: the case is the return's (docs/after-sale.md).
    refundId: 'gid://shopify/Return/6701112345',
    externalId: '820982911946154508',
    fill: (api) => {
      api.orders.push(
        shopifyOrder('2026-11-16T04:36:31Z', [asSent('channels/refunds/shopify.json')]),
        ...Array.from({ length: 249 }, (_, i) => shopifyFiller(i + 1)),
      );
    },
    cursor: new Date(Date.parse('2026-11-16T05:00:00Z') + 249 * 60_000).toISOString(),
  },
];

describe('refund polling', () => {
  for (const c of CASES) {
    it(`${c.platform}: a poll stores the sample refund on its order, moves the refund cursor, and a second poll stores nothing twice`, async () => {
      const code = `refunds-${c.platform.toLowerCase()}`;
      const api = await pullApi(c.platform);
      c.fill(api);
      const { poll } = await polledChannel(code, c.platform, api);

      const first = await poll();
      expect(first).toMatchObject({ refunds: 1, failed: 0, error: null, health: ConnectorHealth.UP });
      expect(await returnsOf(code)).toMatchObject([
        { refund_id: c.refundId, external_id: c.externalId, order_external_id: c.externalId },
      ]);
      expect(await refundCursor(code)).toBe(c.cursor);
      const events = await eventCount(code);

      const second = await poll();
      expect(second).toMatchObject({ failed: 0, error: null });
      expect(await returnsOf(code)).toHaveLength(1);
      expect(await eventCount(code)).toBe(events);
      expect(await refundCursor(code)).toBe(c.cursor);
    });
  }

  it('attaches a Taobao refund whose tid is beyond 2^53 to that order, not to the one JSON.parse would read', async () => {
    const code = 'refunds-big-ids';
    const tid = '3487216655190412345';
    // The id plain JSON.parse turns 3487216655190412345 into: another order, here on the same channel.
    const rounded = BigInt(Number(tid)).toString();
    expect(rounded).not.toBe(tid);
    const api = await pullApi('TAOBAO');
    // Both orders send tid as a bare number and no tid_str: the order pull must keep the digits too.
    for (const id of [rounded, tid]) {
      const { tid_str: _, ...trade } = asSent('channels/taobao.json');
      api.orders.push({ ...trade, tid: rawJson(id) });
    }
    api.refunds.push(asSent('channels/refunds/taobao.json').refund_get_response.refund);
    const { poll } = await polledChannel(code, 'TAOBAO', api);

    expect(await poll()).toMatchObject({ orders: 2, created: 2, refunds: 1, failed: 0, error: null });
    expect(
      await sql(
        `select o.external_id from "order" o join channel c on c.id = o.channel_id where c.code = ? order by 1`,
        [code],
      ),
    ).toEqual(
      [{ external_id: rounded }, { external_id: tid }].sort((a, b) =>
        a.external_id.localeCompare(b.external_id),
      ),
    );
    expect(await returnsOf(code)).toMatchObject([{ external_id: tid, order_external_id: tid }]);
  });

  it('stores the good records of a page around a malformed one, which is FAILED in the ingest log', async () => {
    const code = 'refunds-malformed';
    const api = await pullApi('PINDUODUO', { pageSize: 3 });
    const order = asSent('channels/pinduoduo.json');
    const refund = asSent('channels/refunds/pinduoduo.json');
    api.orders.push(order, { ...order, order_sn: '261111-000000000000002' });
    api.refunds.push(
      refund,
      { ...refund, id: 'not-a-record', after_sales_type: 99 },
      { ...refund, id: 12345678902, order_sn: '261111-000000000000002' },
    );
    const { poll } = await polledChannel(code, 'PINDUODUO', api);

    expect(await poll()).toMatchObject({ refunds: 3, failed: 1, error: null, health: ConnectorHealth.UP });
    expect(await returnsOf(code)).toMatchObject([
      { refund_id: '12345678901', order_external_id: '261111-123456789012345' },
      { refund_id: '12345678902', order_external_id: '261111-000000000000002' },
    ]);
    expect(
      await sql(
        `select outcome, count(*)::int as n from ingest_log where channel_code = ? and jsonb_exists(raw_body::jsonb, 'after_sales_type') group by outcome order by outcome`,
        [code],
      ),
    ).toEqual([
      { outcome: 'CREATED', n: 2 },
      { outcome: 'FAILED', n: 1 },
    ]);
    expect(await refundCursor(code)).toBe('3');
  });

  it('leaves the refund cursor where it was while the after-sale list is down, and takes the change once it is back', async () => {
    const code = 'refunds-down';
    const api = await pullApi('JD');
    const service = asSent('channels/refunds/jd.json');
    api.orders.push(asSent('channels/jd.json'));
    api.refunds.push(service);
    const { poll } = await polledChannel(code, 'JD', api);
    expect(await poll()).toMatchObject({ refunds: 1, error: null });
    expect(await refundCursor(code)).toBe('1');

    // JD refunds the service order while its list answers 503.
    api.refunds.push({ ...service, serviceStatus: 10010, updateDate: service.updateDate + 3_600_000 });
    api.refundsDown = true;
    const down = await poll();
    expect(down).toMatchObject({ health: ConnectorHealth.DOWN, error: 'The platform answered HTTP 503.' });
    expect(await refundCursor(code)).toBe('1');
    expect(await returnsOf(code)).toMatchObject([{ status: 'APPROVED' }]);

    api.refundsDown = false;
    expect(await poll()).toMatchObject({ refunds: 1, failed: 0, error: null, health: ConnectorHealth.UP });
    expect(await refundCursor(code)).toBe('2');
    expect(await returnsOf(code)).toMatchObject([{ refund_id: '1876543210', status: 'REFUNDED' }]);
  });
});
