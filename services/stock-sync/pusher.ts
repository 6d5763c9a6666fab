import type pg from 'pg';
import type { HubMetrics } from '../metrics.js';
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
 * Pushes one channel's listings for this process. When the channel has due jobs it takes them from the queue
 * itself (completing them), a call's worth at a time, groups them into the platform's calls, keeps the
 * channel's pace (shared by every process through `channel_api`), claims each listing so no other process
 * pushes it meanwhile, computes the number when it sends, and records what the platform answered. A job stays
 * in the queue, unlocked, until the channel has room to send it: a stock change that finds it waiting there
 * writes nothing to the queue. A retry is a new job at the time it should run.
 */

export interface PusherSettings {
  /** Rounds of calls to one channel this process may have under way at once. */
  maxParallel: number;
  /** Listings one channel may hold taken from the queue in this process. */
  maxWaiting: number;
  /** Backoff after a push without an answer: base × 2^n, capped, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** A pace wait longer than this goes back to the queue instead of holding the listings. */
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
  /** Counts each listing's outcome once it is recorded. */
  metrics: HubMetrics;
  logger: Logger;
  settings: PusherSettings;
  /** Listings this process may still take from the queue, all channels together. */
  room(): number;
  /** The hub is stopping: no new round starts; listings taken and not sent go back to the queue. */
  stopping: AbortSignal;
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
  /** Listings taken from the queue (their jobs completed) and not pushed yet, as they were mapped then. */
  private readonly taken = new Map<string, ListingRef>();
  private readonly inFlight = new Set<string>();
  private drains = 0;
  private idle: (() => void)[] = [];
  /** Due jobs of this channel may wait in the queue: the next drain looks. */
  private moreDue = false;
  /** The platform's client as the channel was last read: how many calls it allows at once. */
  private client: StockClient | null = null;

  constructor(
    private readonly channelId: string,
    private readonly deps: PusherDeps,
  ) {}

  /** Listings this pusher holds out of the queue. */
  get held(): number {
    return this.taken.size;
  }

  /** Due jobs of this channel wait in the queue: the channel takes them as its pace allows. */
  wake(): void {
    this.moreDue = true;
    this.kick();
  }

  /**
   * Resolves once no round is under way. Stopping, the listings still held go back to the queue first (calls
   * already sent finish and are recorded).
   */
  settled(): Promise<void> {
    this.kick();
    if (this.drains === 0 && !this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idle.push(resolve));
  }

  private kick(): void {
    while (this.drains < this.parallel(null) && this.hasWork()) {
      this.drains++;
      void this.drain().then(
        () => {
          this.drains--;
          this.kick();
          this.whenIdle();
        },
        (err: unknown) => {
          // The database is away, say: the listings wait here and are tried again a moment later, not in a
          // tight loop. (A listing lost with its process is found again by the sweep.)
          this.deps.logger.error({ err, channelId: this.channelId }, 'stock push failed');
          this.drains--;
          if (this.deps.stopping.aborted) this.whenIdle();
          else setTimeout(() => this.kick(), 1000).unref();
        },
      );
    }
  }

  private whenIdle(): void {
    if (this.drains > 0 || (this.hasWork() && !this.deps.stopping.aborted)) return;
    for (const resolve of this.idle.splice(0)) resolve();
  }

  /** Rounds under way at once for this channel: the platform may allow fewer calls at a time than the setting. */
  private parallel(info: ChannelInfo | null): number {
    const client = info?.client ?? this.client;
    return Math.min(this.deps.settings.maxParallel, client?.maxParallelCalls ?? Number.POSITIVE_INFINITY);
  }

  private hasWork(): boolean {
    for (const id of this.taken.keys()) if (!this.inFlight.has(id)) return true;
    return this.moreDue;
  }

  private async drain(): Promise<void> {
    const session = this.deps.session();
    if (this.deps.stopping.aborted || !session) {
      // Stopping, or the lock is lost: what is held here goes back to the queue (for another process, or for
      // this one once it holds a lock again).
      this.moreDue = false;
      await this.sendBack(this.deps.stopping.aborted ? 0 : 1000);
      return;
    }
    const info = await this.channelInfo();
    if (!info) {
      // The channel was deleted, and its listings with it: its jobs are taken and dropped.
      await this.takeDueJobs(this.deps.settings.maxWaiting);
      this.taken.clear();
      return;
    }
    await this.takeDueJobs(this.room(info));
    const calls: ListingRef[][] = [];
    for (const n = this.callsPerRound(info); calls.length < n;) {
      const batch = this.takeBatch(info.client);
      if (!batch.length) break;
      calls.push(batch);
    }
    const round = calls.flat();
    if (!round.length) return;
    for (const ref of round) this.taken.delete(ref.listingId);
    try {
      await this.pushRound(info, calls, session);
    } catch (err) {
      // Not recorded (the database is away, say): the listings have no job any more, so they are put back in
      // the queue if the database takes that; if not, the sweep finds them out of step, and a claim left
      // behind is taken over once it is stale.
      await this.reschedule(
        round.map((ref) => ref.listingId),
        1000,
      ).catch(() => {});
      throw err;
    } finally {
      for (const ref of round) this.inFlight.delete(ref.listingId);
    }
  }

  /** Every listing held here and not under way goes back to the queue, due in `delayMs`. */
  private async sendBack(delayMs: number): Promise<void> {
    const ids = [...this.taken.keys()].filter((id) => !this.inFlight.has(id));
    if (!ids.length) return;
    for (const id of ids) this.taken.delete(id);
    await this.reschedule(ids, delayMs);
  }

  /**
   * Calls one round makes, each at its own pace slot, so the statements around the calls (the channel, the
   * listings, the pace, the outcomes) run once for all of them: with one call a round they cost more than the
   * stock changes that caused the pushes. That holds for a platform that sets one listing a call, and for one
   * whose call covers the SKUs of one item only (Taobao, Douyin). The parallel rounds' slots together stay
   * within one pace wait. A platform whose calls spend a shared budget (Shopify) makes one call a round: each
   * reply tells when the next may go.
   */
  private callsPerRound(info: ChannelInfo): number {
    if (info.client?.maxParallelCalls === 1) return 1;
    const callsInWait = (info.requestsPerSecond * this.deps.settings.maxPaceWaitMs) / 1000;
    return Math.max(1, Math.floor(callsInWait / this.parallel(info)));
  }

  /**
   * Listings to take from the queue now: what one round sends, less what is held here already. A channel
   * that pushes nothing (its sync off, no client) takes its jobs only to end them.
   */
  private room(info: ChannelInfo): number {
    const { maxWaiting } = this.deps.settings;
    let idle = 0;
    for (const id of this.taken.keys()) if (!this.inFlight.has(id)) idle++;
    const perRound =
      !info.stockSync || !info.client ? maxWaiting : this.callsPerRound(info) * info.client.maxBatch;
    return Math.min(perRound - idle, maxWaiting - this.taken.size, this.deps.room());
  }

  /**
   * Takes up to `room` due jobs of this channel from the queue and completes them: the listings are held here
   * until their call, as they are mapped now (one unmapped since has nothing left to push). A job a stock
   * change still holds locked (its number not committed yet) is left for later. Taken listings have no job:
   * should this process die before pushing them, the sweep finds them out of step.
   */
  private async takeDueJobs(room: number): Promise<void> {
    // Looked for once: the queue is looked at again when the worker next finds due jobs of this channel, or
    // at once after a full take.
    this.moreDue = false;
    if (room <= 0) return;
    const { rows } = await this.query<{
      id: string | null;
      platform_sku_id: string;
      platform_item_id: string | null;
      location_id: string | null;
      product_code: string;
    }>(
      'take-due',
      `with done as (
         select substr(key, length('stock-sync:') + 1)::uuid as id
           from ${JOB_QUEUE_SCHEMA}.complete_jobs(array(
             select j.id from ${JOB_QUEUE_SCHEMA}._private_jobs j
              where j.is_available and j.job_queue_id is null and j.priority = 0 and j.run_at <= now()
                and j.key like 'stock-sync:%' and j.payload->>'channelId' = $1
              order by j.priority, j.run_at
              limit $2
              for update skip locked))
       )
       select cs.id, cs.platform_sku_id, cs.platform_item_id, cs.location_id, p.product_code
         from done left join channel_sku cs on cs.id = done.id left join product p on p.id = cs.product_id`,
      [this.channelId, room],
    );
    this.moreDue = rows.length === room;
    for (const row of rows) {
      if (row.id === null) continue;
      this.taken.set(row.id, {
        listingId: row.id,
        platformSkuId: row.platform_sku_id,
        platformItemId: row.platform_item_id,
        locationId: row.location_id,
        productCode: row.product_code,
      });
    }
  }

  /** Listings held and not under way that share one call: the first one's batch key, up to the platform's size. */
  private takeBatch(client: StockClient | null): ListingRef[] {
    const batch: ListingRef[] = [];
    let key: string | null = null;
    for (const [id, ref] of this.taken) {
      if (this.inFlight.has(id)) continue;
      const refKey = client ? client.batchKey(ref) : id;
      if (key === null) key = refKey;
      if (refKey !== key) continue;
      batch.push(ref);
      this.inFlight.add(id);
      if (batch.length >= (client?.maxBatch ?? 1)) break;
    }
    return batch;
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
    this.client = client;
    return {
      code: row.code,
      platform: row.platform,
      stockSync: row.stock_sync,
      client,
      api,
      apiProblem,
      requestsPerSecond: row.requests_per_second ?? client?.defaultRequestsPerSecond ?? 1,
    };
  }

  /**
   * Sends a round of calls (one for a batch platform). What is not per call runs once for the round (the
   * listings in step, the pace, the outcomes); each call claims its listings, computing their numbers, right
   * before it goes out at its own pace slot.
   */
  private async pushRound(info: ChannelInfo, calls: ListingRef[][], session: PushSession): Promise<void> {
    if (!info.stockSync || !info.client) return;
    const { client } = info;
    const round = calls.flat();
    if (!info.api) {
      await this.record(
        info,
        round.map((ref) => this.outcome(ref, 'FAILED', null, info.apiProblem)),
        session,
      );
      return;
    }
    const { api } = info;
    const problems = round.filter((ref) => client.listingProblem(ref));
    if (problems.length) {
      await this.record(
        info,
        problems.map((ref) => this.outcome(ref, 'FAILED', null, client.listingProblem(ref))),
        session,
      );
    }
    const paced = await this.awaitPace(
      info,
      calls.map((call) => call.filter((ref) => !client.listingProblem(ref))).filter((call) => call.length),
    );
    if (!paced) return;

    const outcomes: Outcome[] = [];
    const stopped: string[] = [];
    const sent = await Promise.allSettled(
      paced.calls.map(async (call, i) => {
        if (paced.waits[i]! > 0) await sleep(paced.waits[i]!, this.deps.stopping).catch(() => {});
        if (this.deps.stopping.aborted) {
          stopped.push(...call.map((ref) => ref.listingId));
          return;
        }
        const claim = await this.claim(call, session);
        for (const [delayMs, ids] of claim.elsewhere) await this.reschedule(ids, delayMs);
        if (!claim.sets.length) return;
        const refs = new Map(call.map((ref) => [ref.listingId, ref]));
        try {
          const { results, nextCallDelayMs } = await client.set(api, claim.sets, session.signal);
          if (nextCallDelayMs) await this.slowPace(nextCallDelayMs);
          for (const set of claim.sets) {
            const ref = refs.get(set.listingId)!;
            const result = results.get(set.listingId);
            outcomes.push(
              !result
                ? this.outcome(ref, 'ERROR', set.target, 'The platform did not answer for this listing.')
                : result.kind === 'set'
                  ? this.outcome(ref, 'SET', result.quantity, null)
                  : this.outcome(ref, 'FAILED', set.target, `${result.code}: ${result.message}`),
            );
          }
        } catch (err) {
          await this.recordFailure(info, claim.sets, refs, err, session);
        }
      }),
    );
    await this.record(info, outcomes, session);
    if (outcomes.length)
      this.deps.logger.debug(
        { channel: info.code, calls: paced.calls.length, listings: outcomes.length },
        'stock pushes recorded',
      );
    if (stopped.length) await this.reschedule(stopped, 0);
    const failed = sent.find((result) => result.status === 'rejected');
    if (failed) throw failed.reason;
  }

  private async recordFailure(
    info: ChannelInfo,
    sets: StockSet[],
    refs: Map<string, ListingRef>,
    err: unknown,
    session: PushSession,
  ): Promise<void> {
    const ids = sets.map((set) => set.listingId);
    this.deps.logger.debug(
      { channel: info.code, listings: ids.length, reason: err instanceof Error ? err.message : String(err) },
      'stock push not acknowledged',
    );
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
   * Takes the channel's next call slots, shared by every process, one per call that has a listing out of
   * step, and answers those calls (only their listings out of step) with how long each waits for its slot. A
   * listing already showing its target (a sweep, a switch turned on, a change undone) costs no slot: with
   * none out of step, none is taken. Slots further than `maxPaceWaitMs` away (a throttled platform, a long
   * backlog) are not taken: the listings go back to the queue for then instead (null).
   */
  private async awaitPace(
    info: ChannelInfo,
    calls: ListingRef[][],
  ): Promise<{ calls: ListingRef[][]; waits: number[] } | null> {
    if (!calls.length) return null;
    const intervalMs = 1000 / info.requestsPerSecond;
    // One statement: which listings are out of step, and the slots, taken only when the first is near enough
    // to wait for.
    const { rows } = await this.query<{ wait_ms: number; taken: boolean; out_of_step: string[] }>(
      'pace',
      `with listing as (
         select * from unnest($4::uuid[], $5::int[]) as l(id, call)
       ), out_of_step as (
         select cs.id, listing.call from ${LISTING_FROM} join listing on listing.id = cs.id
          where not coalesce(cs.push_owner is null and not cs.uncertain and cs.sync_state = 'IN_SYNC'
                             and cs.confirmed = ${LISTING_TARGET}, false)
       ), slot as (
         select greatest(next_call_at, coalesce(throttled_until, next_call_at), clock_timestamp()) as at
           from channel_api where channel_id = $1 for update
       ), taken as (
         update channel_api a
            set next_call_at = slot.at + $2::float8 * (select count(distinct call) from out_of_step)
                                         * interval '1 millisecond'
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
        intervalMs,
        this.deps.settings.maxPaceWaitMs,
        calls.flatMap((call) => call.map((ref) => ref.listingId)),
        calls.flatMap((call, i) => call.map(() => i)),
      ],
    );
    const row = rows[0];
    if (!row) return null;
    const outOfStep = new Set(row.out_of_step);
    const due = calls
      .map((call) => call.filter((ref) => outOfStep.has(ref.listingId)))
      .filter((call) => call.length);
    if (!due.length) return null;
    if (!row.taken) {
      await this.reschedule(
        due.flat().map((ref) => ref.listingId),
        row.wait_ms + Math.random() * 1000,
      );
      return null;
    }
    return { calls: due, waits: due.map((_, i) => row.wait_ms + i * intervalMs) };
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
    for (const outcome of ['SET', 'FAILED', 'THROTTLED', 'ERROR'] as const) {
      const n = outcomes.filter((o) => o.outcome === outcome).length;
      this.deps.metrics.pushed(info.platform, PUSH_OUTCOME_LABEL[outcome], n);
    }
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

const PUSH_OUTCOME_LABEL = { SET: 'set', FAILED: 'failed', THROTTLED: 'throttled', ERROR: 'error' } as const;

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
