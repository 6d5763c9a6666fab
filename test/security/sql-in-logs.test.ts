import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IngestSource, Platform } from '../../common/enums.js';
import { createLogger } from '../../server/logger.js';
import { IngestBatcher } from '../../services/ingest-batcher.js';
import { seedChannel, seedProduct } from '../support/fixtures.js';
import { errorCodes, startTestHub, type TestHub } from '../support/hub.js';
import { sample } from '../support/webhooks.js';

/**
 * SQL with values inlined never reaches the logs or ingest_log.error: statements are logged with
 * their placeholders (whatever the ORM's debug setting), a database error as its SQL state and the
 * names it concerns, and a payload the database refuses is recorded without its values.
 */

const BUYER = 'Leaky Buyer Sun';
const PHONE = '+86 139 0571 2468';
const INGEST = `mutation ($payload: JSON!) { ingestChannelOrder(channelCode: "shopify-main", payload: $payload) { id } }`;

let hub: TestHub;
let shopify: Awaited<ReturnType<typeof seedChannel>>;
const logLines: string[] = [];

beforeAll(async () => {
  hub = await startTestHub('security sql in logs', {
    logLines,
    // The most there is to log: every statement the ORM runs, and everything at trace.
    ormOverrides: { debug: true },
    env: { LOG_LEVEL: 'trace' },
  });
  shopify = await seedChannel(hub.orm, 'shopify-main', Platform.SHOPIFY);
  await seedProduct(hub.orm, 'MILK-1L', 10);
  // Stands in for any constraint a customer's order can break; its name holds no customer data.
  await hub.orm.em
    .getConnection()
    .execute(`alter table "order" add constraint "order_buyer_refused" check (customer_name <> '${BUYER}')`);
  logLines.length = 0;
});

afterAll(async () => {
  await hub?.close();
});

describe('a statement the database refuses, carrying a customer’s name and phone', () => {
  it('is logged with its SQL state and constraint, and never with the values', async () => {
    const payload = sample('shopify');
    payload.id = 777000111;
    payload.customer = { first_name: 'Leaky Buyer', last_name: 'Sun' };
    payload.shipping_address = { ...payload.shipping_address, name: BUYER, phone: PHONE };
    const res = await hub.gql(INGEST, { payload });
    expect(errorCodes(res)).toEqual(['INTERNAL_SERVER_ERROR']);
    expect(JSON.stringify(res)).not.toContain(BUYER);

    const log = logLines.join('');
    // The hub did log the statements and the failure: just not the values.
    expect(log).toContain('insert into');
    expect(log).toMatch(/"code":"23514"/);
    expect(log).toContain('order_buyer_refused');
    expect(log).not.toContain(BUYER);
    expect(log).not.toContain(PHONE);
    expect(log).not.toContain('Failing row');

    const [row] = await hub.orm.em
      .getConnection()
      .execute<{ outcome: string; error: string }[]>(
        `select outcome, error from ingest_log where raw_body like '%777000111%'`,
      );
    expect(row.outcome).toBe('FAILED');
    expect(row.error).toContain('23514');
    expect(row.error).toContain('order_buyer_refused');
    expect(row.error).not.toContain(BUYER);
    expect(row.error).not.toContain(PHONE);
  });
});

describe('a payload the database refuses, in a batch of webhook deliveries', () => {
  it('fails alone: the others in its batch are stored and answered', async () => {
    const batcher = new IngestBatcher({
      em: hub.orm.em,
      logger: createLogger('silent'),
      hub: hub.hub.services,
      maxPending: 100,
      maxPendingBytes: 1 << 20,
    });
    const bodies = [1, 2, 3, 4, 5].map((n) => {
      const payload = sample('shopify');
      payload.id = 888000100 + n;
      payload.admin_graphql_api_id = `gid://shopify/Order/${payload.id}`;
      if (n === 3) {
        payload.customer = { first_name: 'Leaky Buyer', last_name: 'Sun' };
        payload.shipping_address = { ...payload.shipping_address, name: BUYER };
      }
      return JSON.stringify(payload);
    });
    // Submitted in one turn of the event loop: one batch, one transaction.
    const outcomes = await Promise.allSettled(
      bodies.map((body) => batcher.submit(shopify, IngestSource.WEBHOOK, body)),
    );
    expect(outcomes.map((o) => o.status)).toEqual([
      'fulfilled',
      'fulfilled',
      'rejected',
      'fulfilled',
      'fulfilled',
    ]);
    const rows = await hub.orm.em
      .getConnection()
      .execute<{ outcome: string }[]>(
        `select outcome from ingest_log where raw_body like '%"id":8880001%' order by raw_body`,
      );
    expect(rows.map((r) => r.outcome).sort()).toEqual(['CREATED', 'CREATED', 'CREATED', 'CREATED', 'FAILED']);
  });
});
