import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { FakeFault } from './support/fake-platforms.js';
import { createTestDatabase } from './support/database.js';
import { freePort, startHubProcess, type HubProcess } from './support/hub-process.js';
import {
  connectAllPlatforms,
  convergence,
  createChannel,
  createProduct,
  doubledDeltas,
  listingWrites,
  neverTargets,
  overlappingWrites,
  openDb,
  recordTargets,
  runChaos,
  startSyncFake,
  untilConverged,
  writesOutsideTheirWindow,
  type ChaosHub,
  type ConnectedChannel,
  type SyncDb,
  type SyncFake,
} from './support/stock-sync.js';
import { waitFor } from './support/wait.js';

/**
 * The stock sync as `npm start` runs it, in hub processes of their own: killed with SIGKILL in the middle of
 * a chaotic run and started again, and two processes sharing one queue.
 */

/** Quick pace for the tests: hangs given up after a second, short backoff, breakers that reopen quickly. */
const SYNC_ENV = {
  STOCK_SYNC_POLL_MS: '100',
  STOCK_SYNC_SWEEP_SECONDS: '1',
  STOCK_SYNC_TIMEOUT_MS: '1000',
  STOCK_SYNC_THROTTLE_WAIT_MS: '200',
  STOCK_SYNC_BREAKER_RESET_MS: '500',
  STOCK_SYNC_RETRY_BASE_MS: '100',
  STOCK_SYNC_RETRY_MAX_MS: '1000',
  // Expired holds released every second.
  SWEEP_INTERVAL_SECONDS: '1',
};
const CHAOS_FAULTS: FakeFault[] = ['error5xx', 'hang', 'throttle', 'loseReply'];
/** The 30 s of chaos (both files about 2 min on two cores); STOCK_SYNC_CHAOS_SECONDS=10 for a quicker run. */
const CHAOS_SECONDS = Number(process.env.STOCK_SYNC_CHAOS_SECONDS ?? 30);
const WEBHOOK_SECRET = 'taobao-webhook-secret-0123456789ab';

/**
 * Two processes under a steady stream of changes: both sweep often (each puts back in the queue what looks
 * out of step, so both reach for the same listings), replies take long enough that calls are under way at
 * once, and the changes come every ~50 ms for BUSY_SECONDS with no wait for the platforms in between.
 */
const BUSY_ENV = { STOCK_SYNC_SWEEP_SECONDS: '0.3', LOG_LEVEL: 'debug' };
const BUSY_LATENCY_MS = 200;
const BUSY_SECONDS = 10;
/** services/process-lock.ts: the class of each hub process's advisory lock. */
const PROCESS_LOCK_CLASS = 1752523;

const hubs: HubProcess[] = [];
const fakes: SyncFake[] = [];
let db: SyncDb | null = null;
let dropDatabase: (() => Promise<void>) | null = null;

afterEach(async () => {
  await Promise.all(hubs.splice(0).map((hub) => hub.stop('SIGKILL')));
  await Promise.all(fakes.splice(0).map((f) => f.fake.close()));
  await db?.end();
  db = null;
  await dropDatabase?.();
  dropDatabase = null;
});

async function hubProcess(url: string, env: Record<string, string> = {}, port?: number) {
  const hub = await startHubProcess(url, { ...SYNC_ENV, ...env }, { ...(port && { port }) });
  hubs.push(hub);
  return hub;
}

/** A database migrated by a first hub process, with the targets recorded from the start. */
async function setup(label: string, env: Record<string, string> = {}) {
  const database = await createTestDatabase(label);
  dropDatabase = database.drop;
  const port = await freePort();
  const first = await hubProcess(database.url, env, port);
  db = openDb(database.url);
  await recordTargets(db);
  return { url: database.url, port, first, db };
}

/** `products` mapped on a channel of each platform; Taobao's is core and takes webhook orders. */
function connectAll(
  db: SyncDb,
  products: string[],
  fake: Parameters<typeof startSyncFake>[1] = {},
  connect: { requestsPerSecond?: number } = {},
): Promise<ConnectedChannel[]> {
  return connectAllPlatforms(db, products, {
    webhookSecret: WEBHOOK_SECRET,
    started: (sync) => fakes.push(sync),
    fake,
    connect,
  });
}

/**
 * Random changes to the products' stock every ~50 ms for `ms`, each its own transaction, none waiting for a
 * push; `midway` is awaited once, after a third of the time. Returns how many changes were made.
 */
async function keepChanging(db: SyncDb, products: string[], ms: number, midway?: () => Promise<void>) {
  const deadline = Date.now() + ms;
  let midwayDone = !midway;
  let changes = 0;
  while (Date.now() < deadline) {
    if (!midwayDone && Date.now() > deadline - (ms * 2) / 3) {
      midwayDone = true;
      await midway!();
    }
    const code = products[Math.floor(Math.random() * products.length)];
    const delta = [-3, -2, -1, 1, 2, 3][Math.floor(Math.random() * 6)];
    await db.sql(`update inventory_item set on_hand = greatest(0, on_hand + $1) where product_code = $2`, [
      delta,
      code,
    ]);
    changes++;
    // The pace of the stream, not a synchronisation: nothing waits on it.
    await delay(50);
  }
  return changes;
}

/** The most write calls any one fake had under way at once. */
function maxCallsAtOnce(channels: ConnectedChannel[]): number {
  let most = 0;
  for (const channel of channels) {
    const writes = channel.sync.fake.calls.filter((c) => c.write && c.accepted);
    for (const write of writes) {
      const atOnce = writes.filter((w) => w.arrivedAt <= write.arrivedAt && write.arrivedAt < w.appliedAt!);
      most = Math.max(most, atOnce.length);
    }
  }
  return most;
}

/**
 * Each listing's accepted platform writes against the pushes the hub recorded for it: at least one write per
 * SET push, and beyond those at most one per ERROR push (no answer in time, so the hub cannot know whether it
 * landed and pushes again; on a busy machine a reply can miss the 1-s deadline); and no number SET twice in a
 * row (what a second process pushing the same change would do).
 */
function acceptedWrites(channel: ConnectedChannel, skuId: string) {
  return channel.sync.fake.calls.filter((call) => call.write && call.accepted && call.skus.includes(skuId));
}

/** What each accepted write set the SKU to, in order: what a mismatch is read against. */
function writtenValues(channel: ConnectedChannel, skuId: string): string {
  return acceptedWrites(channel, skuId)
    .map((call) => call.changes?.find((change) => change.skuId === skuId)?.after ?? '?')
    .join(', ');
}

async function writesAgainstPushes(db: SyncDb, channels: ConnectedChannel[]): Promise<string[]> {
  const pushes = await db.sql<{
    channel_code: string;
    platform_sku_id: string;
    targets: number[] | null;
    unanswered: number;
    outcomes: string | null;
  }>(
    `select c.code as channel_code, cs.platform_sku_id,
            array_agg(sp.target order by sp.id) filter (where sp.outcome = 'SET') as targets,
            (count(*) filter (where sp.outcome = 'ERROR'))::int as unanswered,
            string_agg(sp.outcome || ' ' || sp.target, ', ' order by sp.id) as outcomes
       from channel_sku cs join channel c on c.id = cs.channel_id
       left join stock_push sp on sp.listing_id = cs.id
      group by c.code, cs.platform_sku_id`,
  );
  const problems: string[] = [];
  for (const channel of channels) {
    for (const listing of channel.listings) {
      const recorded = pushes.find(
        (p) => p.channel_code === channel.channelCode && p.platform_sku_id === listing.platformSkuId,
      );
      const sets = recorded?.targets ?? [];
      const unanswered = recorded?.unanswered ?? 0;
      const writes = acceptedWrites(channel, listing.fakeSkuId).length;
      if (writes < sets.length || writes > sets.length + unanswered) {
        problems.push(
          `${listing.channelCode}/${listing.productCode}: ${writes} writes, ${sets.length} pushes set ` +
            `and ${unanswered} unanswered (pushes: ${recorded?.outcomes}; writes: ` +
            `${writtenValues(channel, listing.fakeSkuId)})`,
        );
      }
      if (sets.some((t, i) => i > 0 && sets[i - 1] === t)) {
        problems.push(`${listing.channelCode}/${listing.productCode}: pushed ${sets.join(',')}`);
      }
    }
  }
  return problems;
}

describe('stock sync in hub processes', () => {
  it('converges the same after the hub is killed with SIGKILL in the middle of the chaos and started again', async () => {
    const { url, port, first, db } = await setup('sync-sigkill');
    const products = ['MILK-1L', 'TEA-500G', 'RICE-5KG'];
    for (const code of products) await createProduct(db, code, 60);
    await createChannel(db, 'shop', 'STOREFRONT');
    const channels = await connectAll(db, products, { faults: { rate: 0.15, kinds: CHAOS_FAULTS } });
    const target: ChaosHub = { base: first.base, adminKey: first.adminKey };
    let killedMidPush = 0;

    const report = await runChaos({
      hub: target,
      db,
      productCodes: products,
      channelCodes: channels.map((c) => c.channelCode),
      storefront: 'shop',
      webhook: { channelCode: 'taobao-main', secret: WEBHOOK_SECRET },
      durationMs: CHAOS_SECONDS * 1000,
      midway: async () => {
        // Killed while it holds listings, so the next process must take over pushes that may have landed. JD's
        // next writes hang until the deadline (1 s), so a push it claims stays under way long enough to be
        // caught there, however busy the machine.
        const held = channels.find((c) => c.channelCode === 'jd-main')!;
        held.sync.fake.failNext('hang', 3);
        await waitFor(
          async () =>
            (
              await db.sql(
                `select 1 from channel_sku cs join channel c on c.id = cs.channel_id
                  where cs.push_owner is not null and c.code = $1`,
                [held.channelCode],
              )
            ).length > 0,
          'a push under way',
          30_000,
        );
        await first.stop('SIGKILL');
        killedMidPush = (await db.sql(`select 1 from channel_sku where push_owner is not null`)).length;
        const second = await hubProcess(url, {}, port);
        target.base = second.base;
      },
    });
    for (const channel of channels) channel.sync.fake.setFaults(null);
    const quiet = Date.now();
    await untilConverged(db, channels, 30_000);
    console.log(
      `SIGKILL with ${killedMidPush} listings mid-push; chaos ${JSON.stringify(report)}; ` +
        `converged ${((Date.now() - quiet) / 1000).toFixed(1)} s after quiet`,
    );
    expect(killedMidPush).toBeGreaterThan(0);
    expect(await db.sql(`select 1 from channel_sku where push_owner is not null`)).toEqual([]);
    expect(await neverTargets(db, channels)).toEqual([]);
  });

  it('two processes push the same products while they keep changing: one write at a time per SKU, each push done once', async () => {
    // At debug level each process logs every round of pushes it recorded.
    const { url, first, db } = await setup('sync-two-processes', BUSY_ENV);
    const second = await hubProcess(url, BUSY_ENV);
    const products = ['MILK-1L', 'TEA-500G', 'RICE-5KG'];
    for (const code of products) await createProduct(db, code, 100);
    const channels = await connectAll(
      db,
      products,
      { latencyMs: BUSY_LATENCY_MS },
      { requestsPerSecond: 200 },
    );

    const changes = await keepChanging(db, products, BUSY_SECONDS * 1000);
    const unconverged = await convergence(db, channels);

    const roundsOf = (hub: HubProcess) => (hub.output().match(/"msg":"stock pushes recorded"/g) ?? []).length;
    const [{ unanswered }] = await db.sql<{ unanswered: number }>(
      `select count(*)::int as unanswered from stock_push where outcome = 'ERROR'`,
    );
    console.log(
      `two processes: ${changes} changes; rounds of pushes ${roundsOf(first)} + ${roundsOf(second)}; ` +
        `${unanswered} pushes unanswered within the deadline`,
    );
    expect(roundsOf(first)).toBeGreaterThan(0);
    expect(roundsOf(second)).toBeGreaterThan(0);
    // Neither died on the way (its last lines say why if it did).
    for (const hub of [first, second]) expect(hub.child.exitCode, hub.output().slice(-4000)).toBeNull();
    // The calls did overlap (on different SKUs): the processes were pushing at the same time.
    expect(maxCallsAtOnce(channels)).toBeGreaterThan(1);

    const writes = listingWrites(channels);
    const window = await writesOutsideTheirWindow(db, writes);
    // Soft: a failure shows all four.
    expect.soft(unconverged).toEqual([]);
    expect.soft(overlappingWrites(channels)).toEqual([]);
    expect.soft(window.problems).toEqual([]);
    expect.soft(doubledDeltas(writes, window.outside)).toEqual([]);
    // A write the platform has accepted is recorded a moment later (on a busy machine, later still): the
    // counts are compared once they agree or the wait runs out, and then they must agree.
    let mismatched: string[] = [];
    await waitFor(
      async () => (mismatched = await writesAgainstPushes(db, channels)).length === 0,
      'every accepted write recorded as a push',
      30_000,
    ).catch(() => {});
    expect(mismatched).toEqual([]);
  });

  it('a process whose lock connection is cut while it pushes: still one write at a time per SKU, and all converge', async () => {
    const { url, db } = await setup('sync-lock-cut', BUSY_ENV);
    const second = await hubProcess(url, BUSY_ENV);
    const products = ['MILK-1L', 'TEA-500G', 'RICE-5KG'];
    for (const code of products) await createProduct(db, code, 100);
    const channels = await connectAll(
      db,
      products,
      { latencyMs: BUSY_LATENCY_MS },
      { requestsPerSecond: 200 },
    );
    let cut: { pid: number; owner: string } | null = null;
    let cutAt = 0;

    const changes = await keepChanging(db, products, BUSY_SECONDS * 1000, async () => {
      // The lock backend of a process that holds a listing now (pg_locks names the lock by its process id).
      const holder = async () =>
        (
          await db.sql<{ pid: number; owner: string }>(
            `select l.pid, cs.push_owner as owner
               from channel_sku cs
               join pg_locks l on l.locktype = 'advisory' and l.granted and l.classid = ${PROCESS_LOCK_CLASS}
                and l.objsubid = 2 and l.objid = (hashtext(cs.push_owner)::bigint & 4294967295)::oid
                and l.database = (select oid from pg_database where datname = current_database())
              where cs.push_owner is not null
              limit 1`,
          )
        )[0];
      await waitFor(async () => (cut = (await holder()) ?? null) !== null, 'a push under way', 30_000);
      const [terminated] = await db.sql<{ ok: boolean }>('select pg_terminate_backend($1) as ok', [cut!.pid]);
      expect(terminated.ok).toBe(true);
      cutAt = Date.now();
    });
    const unconverged = await convergence(db, channels);

    console.log(`lock cut: ${changes} changes; the lock of ${cut!.owner} cut at ${cutAt} while it pushed`);
    expect(cut).not.toBeNull();
    expect(second.child.exitCode, second.output().slice(-4000)).toBeNull();
    const writes = listingWrites(channels);
    const window = await writesOutsideTheirWindow(db, writes);
    // Soft: a failure shows all four.
    expect.soft(unconverged).toEqual([]);
    expect.soft(overlappingWrites(channels)).toEqual([]);
    expect.soft(window.problems).toEqual([]);
    expect.soft(doubledDeltas(writes, window.outside)).toEqual([]);
  });
});
