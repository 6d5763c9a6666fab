import type pg from 'pg';
import type { Platform } from '../../common/enums.js';
import type { Logger } from '../../server/logger.js';
import { PlatformRequestError } from '../platform-client.js';
import { credentialAad, type Sealer } from '../secret-box.js';
import { JOB_QUEUE_SCHEMA } from '../../common/job-queue.js';
import { LISTING_FROM, LISTING_TARGET, staleClaim } from './listings.js';
import {
  PlatformRejectedError,
  PlatformThrottledError,
  type ChannelApi,
  type Listing,
  type StockClient,
  type StockSet,
} from './platform-api.js';

/**
 * Pushes one channel's listings for this process: the queue's jobs hand it listings, it groups them into the
 * platform's batch calls, keeps the channel's pace (shared by every process through `channel_api`), claims
 * each listing so no other process pushes it meanwhile, computes the number when it sends, and records what
 * the platform answered. Every outcome ends the job: a retry is a new job at the time it should run.
 */

export interface PusherSettings {
  /** Calls to one channel this process may have under way at once. */
  maxParallel: number;
  /** Listings one channel may have waiting in this process; more are sent back to the queue for later. */
  maxWaiting: number;
  /** Backoff after a push without an answer: base × 2^n, capped, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A pace wait longer than this goes back to the queue instead of holding a job. */
  maxPaceWaitMs: number;
  /**
   * How long a call whose answer never came may still land on the platform: nobody reads the listing back
   * (or takes it over from a dead process) before then, so a late change is not applied twice.
   */
  settleMs: number;
  /** A claim older than this is taken over even from a live process (its push could not be recorded). */
  leaseMs: number;
}

/** Who pushes: this process's name under its lock, and a signal that ends its calls if the lock is lost. */
export interface PushSession {
  processId: string;
  signal: AbortSignal;
}

export interface PusherDeps {
  pool: pg.Pool;
  /** Null while this process holds no lock: nothing is claimed then. */
  session(): PushSession | null;
  clientFor(platform: Platform): StockClient | null;
  defaultBaseUrl(platform: Platform, shopId: string | null): string;
  /** Opens the sealed credentials. */
  sealer: Pick<Sealer, 'open'>;
  logger: Logger;
  settings: PusherSettings;
  /** The hub is stopping: no new batch starts; listings still waiting go back to the queue. */
  stopping: AbortSignal;
}

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

interface ChannelInfo {
  code: string;
  platform: Platform;
  stockSync: boolean;
  client: StockClient | null;
  api: ChannelApi | null;
  /** Why there is no usable API (none set, sealed with another key). */
  apiProblem: string | null;
  requestsPerSecond: number;
}

type ListingRef = Listing & { productCode: string };

export class ChannelPusher {
  private readonly waiting = new Map<string, Waiter[]>();
  private readonly inFlight = new Set<string>();
  private readonly refs = new Map<string, ListingRef>();
  private drains = 0;
  /** When the listings this process sent back to the queue for lack of room come due, the last of them. */
  private backlogUntil = 0;
  /** The last look at the queue filled a whole call: more of this channel's jobs may be due there. */
  private moreDue = false;
  private info: ChannelInfo | null = null;

  constructor(
    private readonly channelId: string,
    private readonly deps: PusherDeps,
  ) {}

  /** Resolves once the listing is pushed, found in sync, failed, or sent back to the queue for later. */
  async push(listingId: string): Promise<void> {
    if (this.waiting.size >= this.waitingLimit() && !this.waiting.has(listingId)) {
      // More here than this channel can send within a pace wait: the listing goes back to the queue for
      // about when the channel's pace reaches it, so it does not hold a job that other channels could use.
      // Each one sent back gets the next turn after those sent back before it, so a backlog of thousands is
      // put back once, spread over the time the channel needs for it, not fetched and put back again and again.
      const rps = this.info?.requestsPerSecond ?? 1;
      const perCall = this.info?.client?.maxBatch ?? 1;
      const now = Date.now();
      const afterWaiting = now + (this.waiting.size / (rps * perCall)) * 1000;
      this.backlogUntil = Math.max(this.backlogUntil, afterWaiting) + 1000 / (rps * perCall);
      await this.reschedule([listingId], this.backlogUntil - now);
      return;
    }
    await new Promise<void>((resolve, reject) => {
      const waiters = this.waiting.get(listingId) ?? [];
      waiters.push({ resolve, reject });
      this.waiting.set(listingId, waiters);
      this.kick();
    });
  }

  /**
   * Due jobs of this channel wait in the queue: the channel looks for them now. A platform that sets many
   * listings a call must not wait for its jobs to come through the queue's runner, whose slots the one-SKU
   * platforms' backlogs can fill for tens of seconds.
   */
  wake(): void {
    this.moreDue = true;
    this.kick();
  }

  /** Listings worth holding here: what the channel can send within one pace wait, at most `maxWaiting`. */
  private waitingLimit(): number {
    const { maxWaiting, maxPaceWaitMs } = this.deps.settings;
    if (!this.info) return maxWaiting;
    const perCall = this.info.client?.maxBatch ?? 1;
    const callsInWait = Math.max(1, (this.info.requestsPerSecond * maxPaceWaitMs) / 1000);
    return Math.min(maxWaiting, Math.max(perCall, Math.ceil(callsInWait * perCall)));
  }

  private kick(): void {
    const parallel = Math.min(
      this.deps.settings.maxParallel,
      this.info?.client?.maxParallelCalls ?? Number.POSITIVE_INFINITY,
    );
    while (this.drains < parallel && this.hasWork()) {
      this.drains++;
      void this.drain().then(
        () => {
          this.drains--;
          this.kick();
        },
        (err: unknown) => {
          // The database is away, say: the listings wait here and are tried again a moment later, not in a
          // tight loop. (A job lost with its process is found again by the sweep.)
          this.deps.logger.error({ err, channelId: this.channelId }, 'stock push failed');
          this.drains--;
          setTimeout(() => this.kick(), 1000).unref();
        },
      );
    }
  }

  private hasWork(): boolean {
    for (const id of this.waiting.keys()) if (!this.inFlight.has(id)) return true;
    return this.moreDue;
  }

  private async drain(): Promise<void> {
    const session = this.deps.session();
    if (this.deps.stopping.aborted || !session) {
      // Stopping, or the lock is lost: what waits here goes back to the queue (for another process, or for
      // this one once it holds a lock again).
      this.moreDue = false;
      await this.sendBack(this.deps.stopping.aborted ? 0 : 1000);
      return;
    }
    const info = await this.channelInfo();
    if (!info) {
      // The channel was deleted, and its listings with it.
      this.moreDue = false;
      for (const waiters of this.waiting.values()) for (const waiter of waiters) waiter.resolve();
      this.waiting.clear();
      return;
    }
    await this.takeDueJobs(info.client);
    await this.loadRefs();
    const batch = this.takeBatch(info.client);
    if (!batch.length) return;
    const waiters = batch.flatMap((ref) => this.waiting.get(ref.listingId) ?? []);
    for (const ref of batch) this.waiting.delete(ref.listingId);
    try {
      await this.pushBatch(info, batch, session);
      for (const waiter of waiters) waiter.resolve();
    } catch (err) {
      // Not recorded (the database is away, say): the jobs fail, and graphile-worker runs them again later;
      // a claim left behind is taken over once it is stale.
      for (const waiter of waiters) waiter.reject(err);
      throw err;
    } finally {
      for (const ref of batch) {
        this.inFlight.delete(ref.listingId);
        // Read again next time: the listing may be mapped elsewhere by then.
        this.refs.delete(ref.listingId);
      }
    }
  }

  /** Every listing waiting here and not under way goes back to the queue, due in `delayMs`. */
  private async sendBack(delayMs: number): Promise<void> {
    const ids = [...this.waiting.keys()].filter((id) => !this.inFlight.has(id));
    if (!ids.length) return;
    const waiters = ids.flatMap((id) => this.waiting.get(id) ?? []);
    for (const id of ids) this.waiting.delete(id);
    try {
      await this.reschedule(ids, delayMs);
      for (const waiter of waiters) waiter.resolve();
    } catch (err) {
      for (const waiter of waiters) waiter.reject(err);
    }
  }

  /**
   * A platform that sets many listings a call gets them: the due jobs of this channel still in the queue (not
   * yet handed to any process) are taken and completed here, so a call carries up to its batch size instead of
   * only the listings whose jobs this process happens to hold. A job a stock change still holds locked (its
   * number not committed yet) is left for later. Taken listings have no job: should this process die before
   * pushing them, the sweep finds them out of step.
   */
  private async takeDueJobs(client: StockClient | null): Promise<void> {
    // Looked for once: calls under way or listings already here are what the next drains send, and the queue
    // is looked at again when it next has due jobs of this channel.
    this.moreDue = false;
    if (!client || client.maxBatch <= 1) return;
    let idle = 0;
    for (const id of this.waiting.keys()) if (!this.inFlight.has(id)) idle++;
    const room = Math.min(client.maxBatch - idle, this.waitingLimit() - this.waiting.size);
    if (room <= 0) return;
    const { rows } = await this.query<{ listing_id: string }>(
      'take-due',
      `select substr(done.key, length('stock-sync:') + 1) as listing_id
         from ${JOB_QUEUE_SCHEMA}.complete_jobs(array(
           select j.id from ${JOB_QUEUE_SCHEMA}._private_jobs j
            where j.is_available and j.job_queue_id is null and j.priority = 0 and j.run_at <= now()
              and j.key like 'stock-sync:%' and j.payload->>'channelId' = $1
            order by j.priority, j.run_at
            limit $2
            for update skip locked)) done`,
      [this.channelId, room],
    );
    // A full take: the next call looks again at once (at the channel's pace) instead of waiting for a job
    // of this channel to come through the queue's runner, which hands out every channel's jobs in turn.
    this.moreDue = rows.length === room;
    for (const row of rows) if (!this.waiting.has(row.listing_id)) this.waiting.set(row.listing_id, []);
  }

  /** Listings waiting and not under way that share one call: the first one's batch key, up to the platform's size. */
  private takeBatch(client: StockClient | null): ListingRef[] {
    const batch: ListingRef[] = [];
    let key: string | null = null;
    for (const id of this.waiting.keys()) {
      if (this.inFlight.has(id)) continue;
      const ref = this.refs.get(id);
      if (!ref) continue;
      const refKey = client ? client.batchKey(ref) : id;
      if (key === null) key = refKey;
      if (refKey !== key) continue;
      batch.push(ref);
      this.inFlight.add(id);
      if (batch.length >= (client?.maxBatch ?? 1)) break;
    }
    return batch;
  }

  private async loadRefs(): Promise<void> {
    const missing = [...this.waiting.keys()].filter((id) => !this.refs.has(id));
    if (!missing.length) return;
    const { rows } = await this.query<{
      id: string;
      platform_sku_id: string;
      platform_item_id: string | null;
      location_id: string | null;
      product_code: string;
    }>(
      'load-refs',
      `select cs.id, cs.platform_sku_id, cs.platform_item_id, cs.location_id, p.product_code
         from channel_sku cs join product p on p.id = cs.product_id
        where cs.id = any($1::uuid[])`,
      [missing],
    );
    for (const row of rows) {
      this.refs.set(row.id, {
        listingId: row.id,
        platformSkuId: row.platform_sku_id,
        platformItemId: row.platform_item_id,
        locationId: row.location_id,
        productCode: row.product_code,
      });
    }
    // A listing unmapped since its job was queued has nothing left to push.
    for (const id of missing) {
      if (this.refs.has(id)) continue;
      for (const waiter of this.waiting.get(id) ?? []) waiter.resolve();
      this.waiting.delete(id);
    }
  }

  private async channelInfo(): Promise<ChannelInfo | null> {
    // Read for every call, not reused for a while: the push that new credentials enqueue must send them (with
    // settings a moment old it failed again, and the listing stayed FAILED until the next stock change).
    const { rows } = await this.query<{
      code: string;
      platform: Platform;
      stock_sync: boolean;
      has_api: boolean;
      base_url: string | null;
      app_key: string | null;
      app_secret_sealed: string | null;
      access_token_sealed: string | null;
      shop_id: string | null;
      sign_method: string | null;
      requests_per_second: number | null;
    }>(
      'channel-info',
      `select c.code, c.platform, c.stock_sync, a.channel_id is not null as has_api, a.base_url, a.app_key,
              a.app_secret_sealed, a.access_token_sealed, a.shop_id, a.sign_method, a.requests_per_second
         from channel c left join channel_api a on a.channel_id = c.id
        where c.id = $1`,
      [this.channelId],
    );
    const row = rows[0];
    if (!row) return null;
    const client = this.deps.clientFor(row.platform);
    let api: ChannelApi | null = null;
    let apiProblem: string | null = null;
    if (!row.has_api) {
      apiProblem = `No platform API is set for channel "${row.code}" (setChannelApi).`;
    } else {
      let baseUrl: string | null = row.base_url;
      try {
        baseUrl ??= this.deps.defaultBaseUrl(row.platform, row.shop_id);
      } catch (err) {
        apiProblem = (err as Error).message;
      }
      try {
        const appSecret =
          row.app_secret_sealed === null
            ? null
            : this.deps.sealer.open(row.app_secret_sealed, credentialAad(this.channelId, 'appSecret'));
        const accessToken =
          row.access_token_sealed === null
            ? null
            : this.deps.sealer.open(row.access_token_sealed, credentialAad(this.channelId, 'accessToken'));
        if (baseUrl) {
          api = {
            channelId: this.channelId,
            channelCode: row.code,
            platform: row.platform,
            baseUrl,
            appKey: row.app_key,
            appSecret,
            accessToken,
            shopId: row.shop_id,
            signMethod: row.sign_method,
          };
        }
      } catch {
        apiProblem = `The credentials of channel "${row.code}" cannot be opened with this hub's HUB_SECRET_KEY; set them again (setChannelApi).`;
      }
    }
    this.info = {
      code: row.code,
      platform: row.platform,
      stockSync: row.stock_sync,
      client,
      api,
      apiProblem,
      requestsPerSecond: row.requests_per_second ?? client?.defaultRequestsPerSecond ?? 1,
    };
    return this.info;
  }

  private async pushBatch(info: ChannelInfo, batch: ListingRef[], session: PushSession): Promise<void> {
    if (!info.stockSync || !info.client) return;
    const { client } = info;
    if (!info.api) {
      await this.record(
        info,
        batch.map((ref) => this.outcome(ref, 'FAILED', null, info.apiProblem)),
        session,
      );
      return;
    }
    const problems = batch.filter((ref) => client.listingProblem(ref));
    if (problems.length) {
      await this.record(
        info,
        problems.map((ref) => this.outcome(ref, 'FAILED', null, client.listingProblem(ref))),
        session,
      );
    }
    const candidates = await this.awaitPace(
      info,
      batch.filter((ref) => !client.listingProblem(ref)),
    );
    if (!candidates.length) return;
    if (this.deps.stopping.aborted) {
      await this.reschedule(
        candidates.map((ref) => ref.listingId),
        0,
      );
      return;
    }

    const claim = await this.claim(candidates, session);
    for (const [delayMs, ids] of claim.elsewhere) await this.reschedule(ids, delayMs);
    if (!claim.sets.length) return;
    const refs = new Map(candidates.map((ref) => [ref.listingId, ref]));
    try {
      const { results, nextCallDelayMs } = await client.set(info.api, claim.sets, session.signal);
      if (nextCallDelayMs) await this.slowPace(nextCallDelayMs);
      await this.record(
        info,
        claim.sets.map((set) => {
          const result = results.get(set.listingId);
          if (!result)
            return this.outcome(
              refs.get(set.listingId)!,
              'ERROR',
              set.target,
              'The platform did not answer for this listing.',
            );
          return result.kind === 'set'
            ? this.outcome(refs.get(set.listingId)!, 'SET', result.quantity, null)
            : this.outcome(
                refs.get(set.listingId)!,
                'FAILED',
                set.target,
                `${result.code}: ${result.message}`,
              );
        }),
        session,
      );
    } catch (err) {
      await this.recordFailure(info, claim.sets, refs, err, session);
    }
  }

  private async recordFailure(
    info: ChannelInfo,
    sets: StockSet[],
    refs: Map<string, ListingRef>,
    err: unknown,
    session: PushSession,
  ): Promise<void> {
    const ids = sets.map((set) => set.listingId);
    const each = (outcome: Outcome['outcome'], detail: string) =>
      sets.map((set) => this.outcome(refs.get(set.listingId)!, outcome, set.target, detail));
    if (err instanceof PlatformThrottledError) {
      await this.query(
        'throttled',
        `update channel_api set throttled_until = greatest(coalesce(throttled_until, clock_timestamp()),
                clock_timestamp() + $2 * interval '1 millisecond')
          where channel_id = $1`,
        [this.channelId, err.waitMs],
      );
      await this.record(info, each('THROTTLED', err.message), session);
      await this.reschedule(ids, err.waitMs);
      return;
    }
    if (err instanceof PlatformRejectedError) {
      await this.record(info, each('FAILED', `${err.code}: ${err.message}`), session);
      return;
    }
    if (err instanceof PlatformRequestError && !err.retryable && err.kind === 'http') {
      await this.record(info, each('FAILED', err.message), session);
      return;
    }
    // No usable answer (timeout, network, 5xx, breaker open, our own stop): the call may have landed, so the
    // next push reads back where the platform cannot be told twice.
    const message = err instanceof Error ? err.message : String(err);
    if (!(err instanceof PlatformRequestError)) {
      this.deps.logger.error({ err, channel: info.code }, 'stock push failed unexpectedly');
    }
    const attempts = await this.record(info, each('ERROR', message), session);
    const n = Math.max(0, ...attempts.values());
    const step = Math.min(this.deps.settings.retryMaxMs, this.deps.settings.retryBaseMs * 2 ** n);
    // Not before the settle time: the claim would only send it back.
    const delay = Math.max(this.deps.settings.settleMs, Math.round(step / 2 + (Math.random() * step) / 2));
    await this.reschedule(ids, delay);
  }

  private outcome(
    ref: ListingRef,
    outcome: Outcome['outcome'],
    quantity: number | null,
    detail: string | null,
  ): Outcome {
    return { listingId: ref.listingId, productCode: ref.productCode, outcome, quantity, detail };
  }

  /**
   * Waits for the channel's next call slot, shared by every process, and answers the listings to push in it.
   * A listing already showing its target (a sweep, a switch turned on, a change undone) costs no slot: with
   * none out of step, no slot is taken. A wait longer than `maxPaceWaitMs` (a throttled platform, a long
   * backlog) sends the listings back to the queue for then instead.
   */
  private async awaitPace(info: ChannelInfo, refs: ListingRef[]): Promise<ListingRef[]> {
    if (!refs.length) return refs;
    // One statement: which listings are out of step, and the slot, taken only when it is near enough to
    // wait for.
    const { rows } = await this.query<{ wait_ms: number; taken: boolean; out_of_step: string[] }>(
      'pace',
      `with out_of_step as (
         select cs.id from ${LISTING_FROM}
          where cs.id = any($4::uuid[])
            and not coalesce(cs.push_owner is null and not cs.uncertain and cs.sync_state = 'IN_SYNC'
                             and cs.confirmed = ${LISTING_TARGET}, false)
       ), slot as (
         select greatest(next_call_at, coalesce(throttled_until, next_call_at), clock_timestamp()) as at
           from channel_api where channel_id = $1 for update
       ), taken as (
         update channel_api a set next_call_at = slot.at + $2 * interval '1 millisecond'
           from slot
          where a.channel_id = $1 and slot.at <= clock_timestamp() + $3 * interval '1 millisecond'
            and exists (select 1 from out_of_step)
         returning 1
       )
       select greatest(0, extract(epoch from (slot.at - clock_timestamp())) * 1000)::float8 as wait_ms,
              exists (select 1 from taken) as taken, array(select id::text from out_of_step) as out_of_step
         from slot`,
      [
        this.channelId,
        1000 / info.requestsPerSecond,
        this.deps.settings.maxPaceWaitMs,
        refs.map((ref) => ref.listingId),
      ],
    );
    const row = rows[0];
    if (!row) return [];
    const outOfStep = new Set(row.out_of_step);
    const due = refs.filter((ref) => outOfStep.has(ref.listingId));
    if (!due.length) return due;
    if (!row.taken) {
      await this.reschedule(
        due.map((ref) => ref.listingId),
        row.wait_ms + Math.random() * 1000,
      );
      return [];
    }
    if (row.wait_ms > 0) await sleep(row.wait_ms, this.deps.stopping).catch(() => {});
    return due;
  }

  private async slowPace(delayMs: number): Promise<void> {
    await this.query(
      'slow-pace',
      `update channel_api set next_call_at = greatest(next_call_at, clock_timestamp() + $2 * interval '1 millisecond')
        where channel_id = $1`,
      [this.channelId, delayMs],
    );
  }

  /**
   * Takes the listings for this process and computes what each should show now. A listing another live
   * process is pushing is left to it (and looked at again shortly); one whose pusher died is taken, marked
   * uncertain (its call may have landed). A listing already showing its target is not taken at all.
   */
  private async claim(
    refs: ListingRef[],
    session: PushSession,
  ): Promise<{ sets: StockSet[]; elsewhere: Map<number, string[]> }> {
    const { settleMs, leaseMs } = this.deps.settings;
    const { rows } = await this.query<{
      id: string;
      claimed: boolean;
      target: number;
      confirmed: number | null;
      uncertain: boolean | null;
    }>(
      'claim',
      `with picked as (
         select cs.id, cs.push_owner, cs.uncertain, cs.confirmed, cs.sync_state, ${LISTING_TARGET} as target
           from ${LISTING_FROM}
          where cs.id = any($1::uuid[]) and c.stock_sync
            and (cs.uncertain_until is null or cs.uncertain_until <= now())
            and (cs.push_owner is null
                 or (cs.push_owner = $2 and cs.push_started_at < now() - $3::int * interval '1 millisecond')
                 or ${staleClaim(3, 4)})
          for update of cs skip locked
       ), claimed as (
         update channel_sku cs
            set push_owner = $2, push_started_at = now(), uncertain = picked.uncertain or picked.push_owner is not null
           from picked
          where cs.id = picked.id
            and (picked.push_owner is not null or picked.uncertain or picked.sync_state <> 'IN_SYNC'
                 or picked.confirmed is distinct from picked.target)
         returning cs.id, cs.uncertain
       )
       select picked.id, claimed.id is not null as claimed, picked.target, picked.confirmed, claimed.uncertain
         from picked left join claimed using (id)`,
      [refs.map((ref) => ref.listingId), session.processId, settleMs, leaseMs],
    );
    const seen = new Set(rows.map((row) => row.id));
    const byId = new Map(refs.map((ref) => [ref.listingId, ref]));
    return {
      sets: rows
        .filter((row) => row.claimed)
        .map((row) => ({
          ...byId.get(row.id)!,
          target: row.target,
          confirmed: row.confirmed,
          uncertain: row.uncertain ?? false,
        })),
      elsewhere: await this.notYet(refs.map((ref) => ref.listingId).filter((id) => !seen.has(id))),
    };
  }

  /**
   * Listings not picked: under way in another live process, settling after a call without an answer, or
   * their sync turned off (which the job then finds). Each is looked at again when it may be taken, grouped
   * by that delay.
   */
  private async notYet(ids: string[]): Promise<Map<number, string[]>> {
    const later = new Map<number, string[]>();
    if (!ids.length) return later;
    const { rows } = await this.query<{ id: string; wait_ms: number }>(
      'not-yet',
      `select id, greatest(1000, ceil(extract(epoch from (uncertain_until - now())) * 1000))::int as wait_ms
         from channel_sku where id = any($1::uuid[])`,
      [ids],
    );
    for (const row of rows) {
      const wait = row.wait_ms ?? 1000;
      later.set(wait, [...(later.get(wait) ?? []), row.id]);
    }
    return later;
  }

  /**
   * Stores what the platform said of each listing and releases it, logs the push, and raises a
   * STOCK_SYNC_FAILED alert when a listing turns FAILED (or fails for a new reason): one statement. Returns
   * each listing's count of pushes in a row without an answer.
   */
  private async record(
    info: ChannelInfo,
    outcomes: Outcome[],
    session: PushSession,
  ): Promise<Map<string, number>> {
    if (!outcomes.length) return new Map();
    const { rows } = await this.query<{ id: string; sync_attempts: number }>(
      'record',
      `with r as (
         select * from unnest($1::uuid[], $2::text[], $3::int[], $4::text[], $5::text[])
                    as r(id, outcome, quantity, detail, product_code)
       ), old as (
         select cs.id, cs.sync_state, cs.last_error from channel_sku cs where cs.id in (select id from r)
       ), upd as (
         update channel_sku cs set
           confirmed = case when r.outcome = 'SET' then r.quantity else cs.confirmed end,
           confirmed_at = case when r.outcome = 'SET' then now() else cs.confirmed_at end,
           sync_state = case r.outcome when 'SET' then 'IN_SYNC' when 'FAILED' then 'FAILED'
                                       when 'THROTTLED' then 'THROTTLED' else cs.sync_state end,
           last_error = case when r.outcome = 'SET' then null else r.detail end,
           uncertain = case when r.outcome in ('SET', 'FAILED') then false
                            when r.outcome = 'ERROR' then true else cs.uncertain end,
           uncertain_until = case when r.outcome = 'ERROR' then now() + $8::int * interval '1 millisecond'
                                  when r.outcome in ('SET', 'FAILED') then null else cs.uncertain_until end,
           sync_attempts = case when r.outcome = 'ERROR' then cs.sync_attempts + 1 else 0 end,
           push_owner = null,
           push_started_at = null
         from r
         where cs.id = r.id and (cs.push_owner is null or cs.push_owner = $6)
         returning cs.id, cs.product_id, cs.sync_state, cs.last_error, cs.sync_attempts
       ), logged as (
         insert into stock_push (listing_id, channel_code, product_code, target, outcome, detail)
         select r.id, $7, r.product_code, coalesce(r.quantity, -1), r.outcome, r.detail from r
       ), alerted as (
         insert into stock_alert (kind, product_id, product_code, available, message, channels_closed)
         select 'STOCK_SYNC_FAILED', upd.product_id, p.product_code, coalesce(ii.on_hand - ii.reserved, 0),
                format('The stock of "%s" could not be set on channel %s: %s', p.product_code, $7::text, upd.last_error),
                array[$7::text]
           from upd join old using (id) join product p on p.id = upd.product_id
           left join inventory_item ii on ii.product_id = upd.product_id
          where upd.sync_state = 'FAILED' and (old.sync_state <> 'FAILED' or old.last_error is distinct from upd.last_error)
       )
       select id, sync_attempts from upd`,
      [
        outcomes.map((o) => o.listingId),
        outcomes.map((o) => o.outcome),
        outcomes.map((o) => o.quantity),
        outcomes.map((o) => o.detail),
        outcomes.map((o) => o.productCode),
        session.processId,
        info.code,
        this.deps.settings.settleMs,
      ],
    );
    return new Map(rows.map((row) => [row.id, row.sync_attempts]));
  }

  /**
   * Every statement of the pusher is prepared once per connection, by name: planning its joins (the listing's
   * target reads six tables) cost several times its execution, for each listing pushed.
   */
  private query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    name: string,
    text: string,
    values: unknown[],
  ): Promise<pg.QueryResult<R>> {
    return this.deps.pool.query<R>({ name: `stock-sync-${name}`, text, values });
  }

  /** Back to the queue: a job for each listing at `delayMs` from now. */
  async reschedule(listingIds: string[], delayMs: number): Promise<void> {
    await this.query(
      'reschedule',
      `select hub_stock_sync_enqueue($1::uuid[], now() + $2 * interval '1 millisecond')`,
      [listingIds, Math.max(0, Math.round(delayMs))],
    );
  }
}

interface Outcome {
  listingId: string;
  productCode: string;
  /** SET: the platform shows `quantity`; FAILED: refused for good; THROTTLED; ERROR: no usable answer. */
  outcome: 'SET' | 'FAILED' | 'THROTTLED' | 'ERROR';
  quantity: number | null;
  detail: string | null;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
