import { createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import autocannon from 'autocannon';
import pg from 'pg';
import { graphql, type HubProcess } from '../test/support/hub-process.js';

/**
 * The webhook ingestion workload (bench/webhook-ingest.ts, and sync on/off in bench/stock-sync.ts): signed JD
 * payloads, each a new order of one line over 50 products, through the hub's webhook, and the bare INSERT
 * loop of the same rows that is its ceiling.
 */

export const INGEST_PRODUCTS = 50;
export const INGEST_CHANNEL = 'jd-bench';
const SECRET = 'bench-secret-0123456789abcdef01234567';
const sample = JSON.parse(
  readFileSync(new URL('../../test/fixtures/channels/jd.json', import.meta.url), 'utf8'),
);

/** The JD channel and the products `SKU-0`… with 100,000,000 on hand, so no order runs out. */
export async function prepareIngest(hub: HubProcess, direct: pg.Client): Promise<void> {
  await graphql(
    hub.base,
    hub.adminKey,
    `mutation { upsertChannel(input: {code: "${INGEST_CHANNEL}", platform: JD, name: "JD", webhookSecret: "${SECRET}"}) { id } }`,
  );
  for (let i = 0; i < INGEST_PRODUCTS; i++) {
    await graphql(
      hub.base,
      hub.adminKey,
      `mutation { upsertProduct(input: {productCode: "SKU-${i}", name: "P${i}"}) { id } }`,
    );
  }
  await direct.query(`update inventory_item set on_hand = 100000000`);
}

export interface IngestFigures {
  /** Orders answered per second, autocannon's average. */
  rate: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
}

/**
 * `connections` senders for `seconds` (or until `amount` orders); order numbers `<prefix>1`, `<prefix>2`… so
 * runs on one database need different prefixes. `shape`, when given, changes each payload (the nth) before it
 * is signed: another buyer or time (bench/risk-ingest.ts).
 */
export async function ingestRun(
  hub: HubProcess,
  {
    seconds,
    connections,
    prefix,
    amount,
    shape,
  }: {
    seconds: number;
    connections: number;
    prefix: string;
    amount?: number;
    shape?: (payload: typeof sample, n: number) => void;
  },
): Promise<IngestFigures> {
  let n = 0;
  const result = await autocannon({
    url: `${hub.base}/webhooks/${INGEST_CHANNEL}`,
    connections,
    duration: seconds,
    ...(amount && { amount }),
    requests: [
      {
        method: 'POST',
        setupRequest: (request) => {
          const payload = structuredClone(sample);
          payload.orderId = `${prefix}${++n}`;
          payload.itemInfoList[0].outerSkuId = `SKU-${n % INGEST_PRODUCTS}`;
          shape?.(payload, n);
          const body = JSON.stringify(payload);
          const signature = `sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`;
          return {
            ...request,
            body,
            headers: { 'content-type': 'application/json', 'x-hub-signature-256': signature },
          };
        },
      },
    ],
  });
  return {
    rate: result.requests.average,
    p50: result.latency.p50,
    p99: result.latency.p99,
    ok: result['2xx'],
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** The ceiling: the same rows (order, line, timeline entry) by a bare loop, one transaction each; per second. */
export async function ingestCeiling(
  databaseUrl: string,
  direct: pg.Client,
  { seconds, connections }: { seconds: number; connections: number },
): Promise<number> {
  const [{ id: channelId }] = (await direct.query(`select id from channel where code = $1`, [INGEST_CHANNEL]))
    .rows;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: connections });
  let inserted = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    Array.from({ length: connections }, async () => {
      const client = await pool.connect();
      try {
        while (Date.now() < deadline) {
          const id = randomUUID();
          await client.query('begin');
          await client.query(
            `insert into "order" (id, channel_id, external_id, status, customer_name, ship_line1, total_amount, placed_at, raw, origin)
             values ($1, $2, $3, 'PAID', 'x', 'y', '198.00', now(), $4, 'WEBHOOK')`,
            [id, channelId, `RAW-${id}`, JSON.stringify(sample)],
          );
          await client.query(
            `insert into order_line (id, order_id, line_no, product_code, quantity, unit_price, line_total)
             values (gen_random_uuid(), $1, 1, 'SKU-1', 2, '99.00', '198.00')`,
            [id],
          );
          await client.query(
            `insert into order_event (order_id, channel_code, type, to_status, source) values ($1, 'jd-bench', 'CREATED', 'PAID', 'jd-bench')`,
            [id],
          );
          await client.query('commit');
          inserted++;
        }
      } finally {
        client.release();
      }
    }),
  );
  await pool.end();
  return inserted / seconds;
}
