import pg from 'pg';
import { pgPoolFigures, type HubMetrics } from '../metrics.js';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { JOB_QUEUE_SCHEMA } from '../../common/job-queue.js';
import type { Logger } from '../../server/logger.js';
import { coalesced, holdRetakingLock, startQueueLoop, type RetakingLock } from '../queue-loop.js';
import type { Sealer } from '../secret-box.js';
import { isPrivateAddress, PrivateAddressError, publicOnlyLookup } from './address-guard.js';
import { secretAad } from './endpoints.js';

/**
 * Sends the merchants' webhooks, in one hub process. The database gives each delivery at the head of its line
 * (one endpoint, one order or product) a `webhook_delivery` job; this process takes due jobs (FOR UPDATE SKIP
 * LOCKED, completed as taken), marks each delivery as its own (under its process lock, so another process can
 * tell a delivery that died with its sender), sends it signed as Standard Webhooks has it, and records the
 * attempt. Delivered or given up, the next delivery of the line gets its job in the same transaction; failed, the
 * delivery itself gets one at its next retry. A sweep queues any line head left without a job (its sender
 * died, a commit was lost), so every delivery is attempted until it succeeds or is given up: at least once.
 */

export interface DelivererSettings {
  /** Deliveries under way at once in this process; 0: it sends none. */
  concurrency: number;
  /** …to one endpoint: a slow or dead endpoint cannot take every slot. */
  perEndpoint: number;
  timeoutMs: number;
  retryScheduleMs: number[];
  disableAfterMs: number;
  /** Private and loopback addresses may be reached (WEBHOOK_ALLOW_PRIVATE). */
  allowPrivate: boolean;
  pollIntervalMs: number;
  /** How often line heads without a job are queued again. */
  sweepIntervalMs: number;
}

/** A delivery as taken, with what is needed to render and sign it. */
export interface TakenDelivery {
  id: string;
  webhookId: string;
  endpointId: string;
  eventType: string;
  orderId: string | null;
  eventSeq: string | null;
  alertId: string | null;
  occurredAt: Date;
  body: string | null;
  attemptCount: number;
  url: string;
  secretSealed: string;
  previousSecretSealed: string | null;
  previousSecretUntil: Date | null;
}

/** The `data` of each delivery's body, by delivery id; a delivery missing here is rendered as `null` data. */
export type RenderPayloads = (deliveries: TakenDelivery[]) => Promise<Map<string, unknown>>;

export interface DelivererDeps {
  databaseUrl: string;
  logger: Logger;
  settings: DelivererSettings;
  sealer: Pick<Sealer, 'open'>;
  render: RenderPayloads;
  /** The hub's: attempts are counted there once recorded, and this pool's connections shown. */
  metrics: HubMetrics;
}

export interface WebhookDeliverer {
  /** Queues every line head that has no job and no live sender; returns how many. */
  sweep(): Promise<number>;
  stop(): Promise<void>;
}

/** The first kilobyte of a reply is kept with the attempt. */
const RESPONSE_BYTES = 1024;
/** Outcomes recorded in one statement at most. */
const RECORD_BATCH = 200;
/** How long, and about how many, rendered bodies are kept for the other endpoints of the same event. */
const BODY_CACHE_MS = 60_000;
const BODY_CACHE_SIZE = 20_000;

/**
 * Due jobs, oldest first, at most `$1` in all and at most each endpoint's room (`$3`, by endpoint id; `$4` for
 * an endpoint not named), each completed as taken; their deliveries claimed for this process (`$2`). A delivery
 * that is not the oldest pending one of its line, or whose endpoint is off, is left: the line's head, when
 * delivered, queues it, and re-enabling the endpoint queues its heads.
 */
const TAKE = `
with candidates as (
  select j.id, j.run_at, coalesce(j.payload->>'endpointId', '') as endpoint_id
    from ${JOB_QUEUE_SCHEMA}._private_jobs j
   where j.is_available and j.job_queue_id is null and j.run_at <= now() and j.key like 'webhook-delivery:%'
   order by j.run_at, j.id
   limit $1 * 4
), ranked as (
  select c.id, row_number() over (partition by c.endpoint_id order by c.run_at, c.id) as n,
         coalesce(($3::jsonb ->> c.endpoint_id)::int, $4::int) as room
    from candidates c
), due as (
  select j.id from ${JOB_QUEUE_SCHEMA}._private_jobs j
   where j.id = any(array(select id from ranked where n <= room))
   order by j.run_at, j.id
   limit $1
   for update skip locked
), done as (
  select (c.payload->>'deliveryId')::bigint as id
    from ${JOB_QUEUE_SCHEMA}.complete_jobs(array(select id from due)) c
), picked as (
  select d.id from outbound_delivery d
   where d.id = any(array(select id from done)) and d.status = 'PENDING'
     and (d.sending_owner is null or not hub_process_alive(d.sending_owner))
     and not exists (select 1 from outbound_delivery e
                      where e.endpoint_id = d.endpoint_id and e.ordering_key = d.ordering_key
                        and e.status = 'PENDING' and e.id < d.id)
   for update of d skip locked
)
update outbound_delivery d set sending_owner = $2, sending_since = now()
  from picked, webhook_endpoint w
 where d.id = picked.id and w.id = d.endpoint_id and w.enabled
returning d.id::text, d.webhook_id, d.endpoint_id, d.event_type, d.order_id, d.event_seq::text, d.alert_id::text,
          d.occurred_at, d.body, d.attempt_count, w.url, w.secret_sealed, w.previous_secret_sealed,
          w.previous_secret_until`;

/**
 * The outcomes of a batch of attempts, in one statement: each delivery released and moved on, each attempt
 * kept, and each endpoint's failing streak started, ended or, when it has lasted too long, turned into the
 * endpoint being off. An endpoint row is written only when its state changes: every delivery writing it would
 * make all of one endpoint's records wait on one row.
 */
const RECORD = `
with r as (
  select * from unnest($1::bigint[], $3::text[], $4::timestamptz[], $5::timestamptz[], $6::int[], $7::int[],
                       $8::text[], $9::text[])
           as r(id, status, next_attempt_at, started_at, duration_ms, status_code, response, error)
), d as (
  update outbound_delivery d set
    status = r.status, attempt_count = d.attempt_count + 1, next_attempt_at = r.next_attempt_at,
    delivered_at = case when r.status = 'DELIVERED' then now() end, sending_owner = null, sending_since = null
  from r
  where d.id = r.id and d.sending_owner = $2::text
  returning d.id, d.endpoint_id, d.ordering_key, r.status, r.started_at
), attempt as (
  insert into outbound_attempt (delivery_id, started_at, duration_ms, status_code, response, error, next_attempt_at)
  select r.id, r.started_at, r.duration_ms, r.status_code, r.response, r.error, r.next_attempt_at
    from r join d using (id)
), streak as (
  select d.endpoint_id, bool_or(d.status = 'DELIVERED') as ok,
         min(d.started_at) filter (where d.status <> 'DELIVERED') as first_failure
    from d group by d.endpoint_id
), changed as (
  select s.endpoint_id, s.ok, s.first_failure,
         not s.ok and coalesce(e.failing_since < now() - $10::float8 * interval '1 millisecond', false) as too_long
    from streak s join webhook_endpoint e on e.id = s.endpoint_id
   where (s.ok and e.failing_since is not null) or (not s.ok and (e.failing_since is null or e.enabled))
), endpoint as (
  update webhook_endpoint w set
    failing_since = case when c.ok then null else coalesce(w.failing_since, c.first_failure) end,
    enabled = w.enabled and not c.too_long,
    disabled_reason = case when c.too_long and w.enabled
                           then format('Turned off: every attempt failed since %s.', w.failing_since)
                           else w.disabled_reason end
    from changed c
   where w.id = c.endpoint_id
  returning w.id, c.too_long and w.disabled_reason is not null as turned_off, w.disabled_reason
)
select (select coalesce(array_agg(endpoint_id), '{}') from d) as endpoints,
       (select coalesce(array_agg(ordering_key), '{}') from d) as keys,
       (select coalesce(json_agg(json_build_object('id', id, 'reason', disabled_reason)), '[]')
          from endpoint where turned_off) as turned_off`;

const SWEEP = `
select hub_webhook_queue_heads(array(
  select h.id from (select min(id) as id from outbound_delivery where status = 'PENDING'
                     group by endpoint_id, ordering_key) h
    join outbound_delivery d on d.id = h.id
   where (d.sending_owner is null or not hub_process_alive(d.sending_owner))
     and not exists (select 1 from ${JOB_QUEUE_SCHEMA}._private_jobs j
                      where j.key = 'webhook-delivery:' || d.id and j.locked_at is null)
)) as queued`;

/** A failed attempt with a retry to come is `retrying`; FAILED is given up. */
const DELIVERY_OUTCOME = { DELIVERED: 'delivered', PENDING: 'retrying', FAILED: 'failed' } as const;

interface Recorded {
  delivery: TakenDelivery;
  outcome: Outcome;
  startedAt: Date;
  durationMs: number;
}

interface Outcome {
  status: 'DELIVERED' | 'PENDING' | 'FAILED';
  nextAttemptAt: Date | null;
  statusCode: number | null;
  response: string | null;
  error: string | null;
}

export async function startWebhookDeliverer(deps: DelivererDeps): Promise<WebhookDeliverer> {
  const { settings, logger } = deps;
  const pool = new pg.Pool({
    connectionString: deps.databaseUrl,
    max: 10,
    application_name: 'order-hub-webhooks',
  });
  pool.on('error', (err) => logger.warn({ err }, 'webhooks: database connection lost'));
  pool.on('connect', (client) => client.on('error', () => {}));
  const unwatchPool = deps.metrics.watchPool('webhooks', pgPoolFigures(pool));
  // No redirects (undici's request follows none), and the address is checked at each connection.
  const agent = new Agent({
    connect: settings.allowPrivate ? {} : { lookup: publicOnlyLookup },
    headersTimeout: settings.timeoutMs,
    bodyTimeout: settings.timeoutMs,
  });
  const stopping = new AbortController();
  const inFlight = new Map<string, number>();
  const sends = new Set<Promise<void>>();
  // Deliveries are claimed under this process's lock: one that dies with its process is taken over.
  let lock: RetakingLock;
  try {
    lock = await holdRetakingLock({
      databaseUrl: deps.databaseUrl,
      logger,
      label: 'webhooks',
      stopping: stopping.signal,
    });
  } catch (err) {
    await agent.close();
    unwatchPool();
    await pool.end();
    throw err;
  }

  const total = () => [...inFlight.values()].reduce((a, b) => a + b, 0);

  const take = coalesced(async () => {
    try {
      for (;;) {
        const room = settings.concurrency - total();
        const held = lock.current();
        if (room <= 0 || !held || stopping.signal.aborted) break;
        const endpointRoom = Object.fromEntries(
          [...inFlight].map(([id, n]) => [id, Math.max(0, settings.perEndpoint - n)]),
        );
        const { rows } = await pool.query<Record<string, unknown>>(TAKE, [
          room,
          held.processId,
          JSON.stringify(endpointRoom),
          settings.perEndpoint,
        ]);
        const taken = rows.map(toTaken);
        if (!taken.length) break;
        for (const t of taken) inFlight.set(t.endpointId, (inFlight.get(t.endpointId) ?? 0) + 1);
        const sending = sendAll(taken).finally(() => sends.delete(sending));
        sends.add(sending);
        if (taken.length < room) break;
      }
    } catch (err) {
      logger.warn({ err }, 'webhooks: taking due deliveries failed');
    }
  });

  // The body of an event is the same for every endpoint that hears of it: rendered once, kept a while.
  const bodies = new Map<string, { body: string; at: number }>();
  const cachedBody = (webhookId: string) => {
    const hit = bodies.get(webhookId);
    return hit && Date.now() - hit.at < BODY_CACHE_MS ? hit.body : undefined;
  };

  const sendAll = async (taken: TakenDelivery[]): Promise<void> => {
    const unrendered = taken.filter((t) => t.body === null && cachedBody(t.webhookId) === undefined);
    if (unrendered.length) {
      try {
        const data = await deps.render(unrendered);
        const at = Date.now();
        for (const delivery of unrendered) {
          if (!data.has(delivery.id)) continue;
          const payload = {
            type: delivery.eventType,
            timestamp: delivery.occurredAt.toISOString(),
            data: data.get(delivery.id),
          };
          bodies.set(delivery.webhookId, { body: JSON.stringify(payload), at });
        }
        if (bodies.size > BODY_CACHE_SIZE) {
          for (const [key, entry] of bodies) if (at - entry.at >= BODY_CACHE_MS) bodies.delete(key);
        }
      } catch (err) {
        logger.error(
          { err },
          'webhooks: rendering payloads failed; they are rendered again at the next attempt',
        );
      }
    }
    const firstBodies = taken.filter((t) => t.body === null && cachedBody(t.webhookId) !== undefined);
    if (firstBodies.length) {
      // Kept before the first attempt: whatever happens to this process, every attempt sends the same bytes.
      // (Not kept, the next attempt renders the event again, as it is then.)
      await pool
        .query(
          `update outbound_delivery d set body = b.body
             from unnest($1::bigint[], $2::text[]) as b(id, body) where d.id = b.id and d.body is null`,
          [firstBodies.map((t) => t.id), firstBodies.map((t) => cachedBody(t.webhookId)!)],
        )
        .catch((err: unknown) => logger.warn({ err }, 'webhooks: keeping the bodies before sending failed'));
    }
    await Promise.all(
      taken.map(async (delivery) => {
        const body = delivery.body ?? cachedBody(delivery.webhookId) ?? null;
        const startedAt = new Date();
        const started = performance.now();
        const outcome =
          body === null
            ? failure(delivery, null, null, 'The payload could not be rendered.')
            : await post(delivery, body);
        await record({ delivery, outcome, startedAt, durationMs: Math.round(performance.now() - started) });
        // Its slot is free as soon as it is recorded, whatever the rest of its batch is doing.
        const left = (inFlight.get(delivery.endpointId) ?? 1) - 1;
        if (left > 0) inFlight.set(delivery.endpointId, left);
        else inFlight.delete(delivery.endpointId);
        void take();
      }),
    );
  };

  // Attempts that end together are recorded together: one transaction for whatever finished meanwhile.
  const toRecord: (Recorded & { done: () => void })[] = [];
  let recording: Promise<void> | null = null;
  const record = (attempt: Recorded) =>
    new Promise<void>((resolve) => {
      toRecord.push({ ...attempt, done: resolve });
      recording ??= flushRecords().finally(() => (recording = null));
    });
  const flushRecords = async (): Promise<void> => {
    while (toRecord.length) {
      const batch = toRecord.splice(0, RECORD_BATCH);
      try {
        await recordBatch(batch);
      } catch (err) {
        // Not recorded: the sweep finds them once this process's claim is gone, or after a restart.
        logger.error(
          { err, deliveries: batch.map((b) => b.delivery.id) },
          'webhooks: recording attempts failed',
        );
      }
      for (const entry of batch) entry.done();
    }
  };
  const recordBatch = async (batch: Recorded[]): Promise<void> => {
    const client = await pool.connect();
    try {
      await client.query('begin');
      const { rows } = await client.query<{
        endpoints: string[];
        keys: string[];
        turned_off: { id: string; reason: string }[];
      }>(RECORD, [
        batch.map((b) => b.delivery.id),
        lock.current()?.processId ?? '',
        batch.map((b) => b.outcome.status),
        batch.map((b) => b.outcome.nextAttemptAt),
        batch.map((b) => b.startedAt),
        batch.map((b) => b.durationMs),
        batch.map((b) => b.outcome.statusCode),
        batch.map((b) => b.outcome.response),
        batch.map((b) => b.outcome.error),
        settings.disableAfterMs,
      ]);
      const { endpoints, keys, turned_off } = rows[0];
      // Delivered or given up: the next of its line is due; failed: the delivery itself, at its retry.
      if (endpoints.length) {
        await client.query('select hub_webhook_queue_lines($1::uuid[], $2::text[])', [endpoints, keys]);
      }
      await client.query('commit');
      for (const { outcome } of batch) deps.metrics.delivered(DELIVERY_OUTCOME[outcome.status]);
      for (const off of turned_off) {
        logger.error(
          { endpointId: off.id, reason: off.reason },
          'webhooks: an endpoint failing for too long was turned off',
        );
      }
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  };

  const failure = (
    delivery: TakenDelivery,
    statusCode: number | null,
    response: string | null,
    error: string | null,
  ): Outcome => {
    const step = settings.retryScheduleMs[delivery.attemptCount];
    if (step === undefined) return { status: 'FAILED', nextAttemptAt: null, statusCode, response, error };
    // ±20 %: endpoints that failed together do not all come back at the same moment.
    const wait = Math.round(step * (0.8 + Math.random() * 0.4));
    return { status: 'PENDING', nextAttemptAt: new Date(Date.now() + wait), statusCode, response, error };
  };

  const post = async (delivery: TakenDelivery, body: string): Promise<Outcome> => {
    // One second for the header and the signature: a timestamp read again could fall in the next second,
    // and the receiver would find the signature wrong.
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    let signature: string;
    try {
      signature = sign(delivery, body, now);
    } catch (err) {
      return failure(
        delivery,
        null,
        null,
        `The endpoint's secret cannot be opened: ${(err as Error).message}`,
      );
    }
    const url = new URL(delivery.url);
    if (!settings.allowPrivate && isPrivateAddress(url.hostname)) {
      return failure(delivery, null, null, new PrivateAddressError(url.hostname, url.hostname).message);
    }
    try {
      const reply = await request(url, {
        method: 'POST',
        dispatcher: agent,
        headers: {
          'content-type': 'application/json',
          'user-agent': 'order-hub-webhooks',
          'webhook-id': delivery.webhookId,
          'webhook-timestamp': String(now.getTime() / 1000),
          'webhook-signature': signature,
        },
        body,
        signal: AbortSignal.any([AbortSignal.timeout(settings.timeoutMs), stopping.signal]),
      });
      const response = await firstBytes(reply.body);
      if (reply.statusCode >= 200 && reply.statusCode < 300) {
        return {
          status: 'DELIVERED',
          nextAttemptAt: null,
          statusCode: reply.statusCode,
          response,
          error: null,
        };
      }
      return failure(delivery, reply.statusCode, response, `The endpoint answered HTTP ${reply.statusCode}.`);
    } catch (err) {
      return failure(delivery, null, null, describe(err, settings.timeoutMs));
    }
  };

  /** `webhook-signature`: the current secret's, and the previous one's while a rotation overlaps. */
  const sign = (delivery: TakenDelivery, body: string, now: Date): string => {
    const secrets = [deps.sealer.open(delivery.secretSealed, secretAad(delivery.endpointId, 'secret'))];
    if (delivery.previousSecretSealed && delivery.previousSecretUntil && delivery.previousSecretUntil > now) {
      secrets.push(
        deps.sealer.open(delivery.previousSecretSealed, secretAad(delivery.endpointId, 'previousSecret')),
      );
    }
    return secrets.map((secret) => new Webhook(secret).sign(delivery.webhookId, now, body)).join(' ');
  };

  const sweep = async (): Promise<number> => {
    const { rows } = await pool.query<{ queued: number }>(SWEEP);
    return rows[0]?.queued ?? 0;
  };

  const loop = await startQueueLoop({
    databaseUrl: deps.databaseUrl,
    logger,
    label: 'webhooks',
    take: () => void take(),
    sweep,
    pollIntervalMs: settings.pollIntervalMs,
    sweepIntervalMs: settings.sweepIntervalMs,
  });

  return {
    sweep,
    async stop() {
      stopping.abort(new Error('The hub is stopping.'));
      await loop.stop();
      // Attempts under way end (aborted ones are recorded as failed and retried later) before the pool closes.
      await Promise.all([...sends]);
      await lock.release();
      await agent.close();
      unwatchPool();
      await pool.end();
    },
  };
}

function toTaken(row: Record<string, unknown>): TakenDelivery {
  return {
    id: row.id as string,
    webhookId: row.webhook_id as string,
    endpointId: row.endpoint_id as string,
    eventType: row.event_type as string,
    orderId: row.order_id as string | null,
    eventSeq: row.event_seq as string | null,
    alertId: row.alert_id as string | null,
    occurredAt: row.occurred_at as Date,
    body: row.body as string | null,
    attemptCount: row.attempt_count as number,
    url: row.url as string,
    secretSealed: row.secret_sealed as string,
    previousSecretSealed: row.previous_secret_sealed as string | null,
    previousSecretUntil: row.previous_secret_until as Date | null,
  };
}

/** Up to RESPONSE_BYTES of a reply's body; the rest is not read. */
async function firstBytes(body: AsyncIterable<Buffer> & { destroy(): void }): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size >= RESPONSE_BYTES) break;
  }
  body.destroy();
  if (!size) return null;
  return Buffer.concat(chunks).subarray(0, RESPONSE_BYTES).toString('utf8');
}

function describe(err: unknown, timeoutMs: number): string {
  const e = err as Error & { code?: string; cause?: Error & { code?: string } };
  if (
    e.name === 'TimeoutError' ||
    e.code === 'UND_ERR_HEADERS_TIMEOUT' ||
    e.code === 'UND_ERR_BODY_TIMEOUT'
  ) {
    return `No answer within ${timeoutMs} ms.`;
  }
  if (e.name === 'AbortError') return 'The hub stopped during the attempt.';
  const inner = e.cause ?? e;
  if (inner instanceof PrivateAddressError || e instanceof PrivateAddressError) {
    return `Refused: ${(inner instanceof PrivateAddressError ? inner : e).message}.`;
  }
  return `The endpoint could not be reached (${inner.code ?? e.code ?? inner.message}).`;
}
