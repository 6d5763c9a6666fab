import { createHmac, randomBytes } from 'node:crypto';
import pg from 'pg';
import { vi } from 'vitest';
import { credentialAad, SecretBox } from '../../services/secret-box.js';
import {
  LISTING_FROM,
  LISTING_SELECT,
  LISTING_TARGET,
  type ListingRow,
} from '../../services/stock-sync/listings.js';
import {
  startFakePlatform,
  type FakeCredentials,
  type FakePlatform,
  type FakePlatformName,
  type FakePlatformOptions,
} from './fake-platforms.js';
import { TEST_SECRET_KEY } from './hub-process.js';

/**
 * Channels connected to fake platforms, set up through SQL (the admin API for it is built elsewhere), and
 * what the stock sync's tests ask of the result: where each listing stands, and waiting until every fake
 * shows exactly its listing's target.
 */

export const ALL_PLATFORMS: FakePlatformName[] = [
  'TAOBAO',
  'JD',
  'PINDUODUO',
  'DOUYIN',
  'KUAISHOU',
  'YOUZAN',
  'SHOPIFY',
];

/** A small pool on a test database; `sql` answers the rows. */
export interface SyncDb {
  sql<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  end(): Promise<void>;
}

export function openDb(databaseUrl: string): SyncDb {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'stock-sync-test' });
  pool.on('error', () => {});
  return {
    async sql<T>(text: string, params: unknown[] = []) {
      return (await pool.query(text, params)).rows as T[];
    },
    end: () => pool.end(),
  };
}

/** A fake platform with credentials of its own (every fake's differ, so a leak names its platform). */
export interface SyncFake {
  fake: FakePlatform;
  platform: FakePlatformName;
  credentials: Required<Pick<FakeCredentials, 'appKey' | 'appSecret' | 'accessToken' | 'shopId'>>;
  /** Strings that must never leave the hub: the secret and the token. */
  secrets: string[];
}

export async function startSyncFake(
  platform: FakePlatformName,
  options: Partial<Omit<FakePlatformOptions, 'platform' | 'credentials'>> = {},
): Promise<SyncFake> {
  const tag = `${platform.toLowerCase()}-${randomBytes(6).toString('hex')}`;
  const credentials = {
    appKey: `app-${tag}`,
    appSecret: `SECRET-${tag}`,
    accessToken: `TOKEN-${tag}`,
    shopId: String(10_000_000 + Math.floor(Math.random() * 80_000_000)),
  };
  const fake = await startFakePlatform({ platform, credentials, ...options });
  return { fake, platform, credentials, secrets: [credentials.appSecret, credentials.accessToken] };
}

export async function createChannel(
  db: SyncDb,
  code: string,
  platform: FakePlatformName | 'STOREFRONT',
  options: { isCore?: boolean; webhookSecret?: string } = {},
): Promise<string> {
  const [row] = await db.sql<{ id: string }>(
    `insert into channel (code, platform, name, is_core, ingestion_modes, webhook_secret)
     values ($1, $2, $1, $3, '{WEBHOOK}', $4) returning id`,
    [code, platform, options.isCore ?? false, options.webhookSecret ?? null],
  );
  return row.id;
}

export async function createProduct(db: SyncDb, productCode: string, onHand: number, safetyStock = 0) {
  await db.sql(
    `with p as (insert into product (product_code, name) values ($1, $1) returning id)
     insert into inventory_item (product_id, product_code, on_hand, safety_stock)
     select id, $1, $2, $3 from p`,
    [productCode, onHand, safetyStock],
  );
}

/** Where one listing lives on its platform, and the fake's key for it. */
export interface MappedListing {
  channelCode: string;
  productCode: string;
  platformSkuId: string;
  platformItemId: string;
  locationId: string | null;
  /** What the fake knows the SKU by (Shopify: the inventory item, at `locationId`). */
  fakeSkuId: string;
}

export interface ConnectedChannel {
  channelCode: string;
  sync: SyncFake;
  listings: MappedListing[];
}

let idSeq = 0;
const nextId = () => `${7_000_000_000 + (Date.now() % 1_000_000_000)}${String(++idSeq).padStart(4, '0')}`;

/**
 * Connects `channelCode` (which exists) to its fake: stores the fake's credentials sealed with the test key,
 * maps each product to a new SKU the fake knows (at `initialQuantity`, 999 by default: a number the hub never
 * sets in these tests), and turns the sync on, in one transaction (which enqueues the first pushes).
 * Taobao and Douyin SKUs of a channel share one item, so their pushes can be batched.
 */
export async function connectFake(
  db: SyncDb,
  options: {
    channelCode: string;
    sync: SyncFake;
    productCodes: string[];
    initialQuantity?: number;
    /** channel_api.push_delay_ms: how long changes are gathered before a push (the engine's default 1000). */
    pushDelayMs?: number;
    requestsPerSecond?: number;
    /** What the hub sends instead of the fake's real credentials (a wrong secret). */
    credentials?: Partial<SyncFake['credentials']>;
    stockSync?: boolean;
    /** False: the fake does not know the SKUs (the platform's "unknown SKU"). */
    addToFake?: boolean;
  },
): Promise<ConnectedChannel> {
  const { sync, channelCode } = options;
  const box = new SecretBox(Buffer.from(TEST_SECRET_KEY, 'hex'));
  const creds = { ...sync.credentials, ...options.credentials };
  const sharedItem = nextId();
  const listings: MappedListing[] = options.productCodes.map((productCode) => {
    const sku = nextId();
    if (sync.platform === 'SHOPIFY') {
      const inventoryItemId = `gid://shopify/InventoryItem/${sku}`;
      return {
        channelCode,
        productCode,
        platformSkuId: `variant-${sku}`,
        platformItemId: inventoryItemId,
        locationId: 'gid://shopify/Location/1',
        fakeSkuId: inventoryItemId,
      };
    }
    const itemId = ['TAOBAO', 'DOUYIN'].includes(sync.platform) ? sharedItem : nextId();
    return {
      channelCode,
      productCode,
      platformSkuId: sku,
      platformItemId: itemId,
      locationId: null,
      fakeSkuId: sku,
    };
  });
  for (const listing of options.addToFake === false ? [] : listings) {
    sync.fake.addSku({
      itemId: listing.platformItemId,
      skuId: listing.fakeSkuId,
      ...(listing.locationId && { locationId: listing.locationId }),
      quantity: options.initialQuantity ?? 999,
    });
  }
  await db.sql('begin');
  try {
    const [channel] = await db.sql<{ id: string }>('select id from channel where code = $1', [channelCode]);
    if (!channel) throw new Error(`No channel ${channelCode}.`);
    await db.sql(
      `insert into channel_api (channel_id, base_url, app_key, app_secret_sealed, access_token_sealed, shop_id,
                                sign_method, requests_per_second, push_delay_ms)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       on conflict (channel_id) do update set base_url = excluded.base_url, app_key = excluded.app_key,
         app_secret_sealed = excluded.app_secret_sealed, access_token_sealed = excluded.access_token_sealed,
         shop_id = excluded.shop_id, sign_method = excluded.sign_method,
         requests_per_second = excluded.requests_per_second, push_delay_ms = excluded.push_delay_ms`,
      [
        channel.id,
        sync.fake.baseUrl,
        creds.appKey,
        box.seal(creds.appSecret, credentialAad(channel.id, 'appSecret')),
        box.seal(creds.accessToken, credentialAad(channel.id, 'accessToken')),
        creds.shopId,
        null,
        options.requestsPerSecond ?? null,
        options.pushDelayMs ?? 1000,
      ],
    );
    for (const listing of listings) {
      await db.sql(
        `insert into channel_sku (channel_id, platform_sku_id, product_id, platform_item_id, location_id)
         select $1, $2, p.id, $3, $4 from product p where p.product_code = $5`,
        [channel.id, listing.platformSkuId, listing.platformItemId, listing.locationId, listing.productCode],
      );
    }
    await db.sql('update channel set stock_sync = $2 where id = $1', [channel.id, options.stockSync ?? true]);
    await db.sql('commit');
  } catch (err) {
    await db.sql('rollback');
    throw err;
  }
  return { channelCode, sync, listings };
}

/** One listing as the tests look at it. */
/**
 * A channel of each platform (`<platform>-main`; Taobao core and taking signed webhooks with `webhookSecret`),
 * each on its own fake and listing every product, pushed 200 ms after a change unless told otherwise. Each
 * fake is handed to `started` as soon as it runs, so the caller can close it whatever happens next.
 */
export async function connectAllPlatforms(
  db: SyncDb,
  products: string[],
  options: {
    webhookSecret: string;
    started: (sync: SyncFake) => void;
    fake?: Parameters<typeof startSyncFake>[1];
    connect?: { requestsPerSecond?: number };
  },
): Promise<ConnectedChannel[]> {
  const channels: ConnectedChannel[] = [];
  for (const platform of ALL_PLATFORMS) {
    const code = `${platform.toLowerCase()}-main`;
    await createChannel(db, code, platform, {
      isCore: platform === 'TAOBAO',
      ...(platform === 'TAOBAO' && { webhookSecret: options.webhookSecret }),
    });
    const sync = await startSyncFake(platform, options.fake ?? {});
    options.started(sync);
    channels.push(
      await connectFake(db, {
        channelCode: code,
        sync,
        productCodes: products,
        pushDelayMs: 200,
        ...options.connect,
      }),
    );
  }
  return channels;
}

export interface ListingState {
  channelCode: string;
  productCode: string;
  platformSkuId: string;
  target: number;
  confirmed: number | null;
  state: ListingRow['state'];
  lastError: string | null;
}

export async function listingStates(db: SyncDb): Promise<ListingState[]> {
  const rows = await db.sql<ListingRow>(`${LISTING_SELECT} order by c.code, p.product_code`);
  return rows.map((row) => ({
    channelCode: row.channel_code,
    productCode: row.product_code,
    platformSkuId: row.platform_sku_id,
    target: row.target,
    confirmed: row.confirmed,
    state: row.state,
    lastError: row.last_error,
  }));
}

/**
 * What the listings show against what the fakes hold: every mismatch, and every fake with a late write still
 * to land; empty when converged.
 */
export async function divergence(db: SyncDb, channels: ConnectedChannel[]): Promise<string[]> {
  const states = await listingStates(db);
  const problems: string[] = [];
  for (const channel of channels) {
    // Not settled while the platform may still apply a write the hub gave up on.
    const late = channel.sync.fake.pendingLate();
    if (late) problems.push(`${channel.channelCode}: ${late} late writes still to land`);
    for (const listing of channel.listings) {
      const state = states.find(
        (s) => s.channelCode === listing.channelCode && s.platformSkuId === listing.platformSkuId,
      );
      const shown = channel.sync.fake.quantity(listing.fakeSkuId, listing.locationId ?? undefined);
      if (!state || state.state !== 'IN_SYNC' || shown !== state.target) {
        problems.push(
          `${listing.channelCode}/${listing.productCode}: fake ${shown}, target ${state?.target}, ` +
            `confirmed ${state?.confirmed}, ${state?.state}${state?.lastError ? ` (${state.lastError})` : ''}`,
        );
      }
    }
  }
  return problems;
}

/**
 * Waits until every fake shows exactly its listing's target and every listing is IN_SYNC (polling the
 * database and the fakes); fails with what is still off after `ms`.
 */
export async function untilConverged(db: SyncDb, channels: ConnectedChannel[], ms = 30_000): Promise<void> {
  await vi.waitFor(
    async () => {
      const problems = await divergence(db, channels);
      if (problems.length) throw new Error(`not converged:\n${problems.join('\n')}`);
    },
    { timeout: ms, interval: 50 },
  );
}

/**
 * untilConverged as a value: empty once converged, else what was still off after `ms`, so a test can report
 * it beside its other checks (expect.soft) rather than stop at it.
 */
export async function convergence(db: SyncDb, channels: ConnectedChannel[], ms = 30_000): Promise<string[]> {
  try {
    await untilConverged(db, channels, ms);
    return [];
  } catch (err) {
    return [(err as Error).message];
  }
}

/** The fake's quantity for a listing. */
export function shown(channel: ConnectedChannel, productCode: string): number | undefined {
  const listing = channel.listings.find((l) => l.productCode === productCode)!;
  return channel.sync.fake.quantity(listing.fakeSkuId, listing.locationId ?? undefined);
}

/** Every value the fake's SKU for a listing has held, the initial one first. */
export function historyOf(channel: ConnectedChannel, productCode: string): number[] {
  const listing = channel.listings.find((l) => l.productCode === productCode)!;
  return channel.sync.fake.history(listing.fakeSkuId, listing.locationId ?? undefined);
}

/**
 * Records every target each listing has had, independently of the engine: a trigger, deferred to commit, on
 * every table the target reads, stores the targets of the listings a committing transaction touched, with its
 * transaction. The triggers take one advisory lock until commit, so the recorded states follow the commit
 * order and every state a reader could see (the pusher's claim included) is one of them; and a transaction's
 * commit falls after its last entry and before the next transaction's first.
 *
 * Also records each claim of a listing for a push (`push_owner` set) with its transaction's start, a moment
 * no later than the snapshot the claim read the target in.
 */
export async function recordTargets(db: SyncDb): Promise<void> {
  await db.sql(`create table test_target_log (listing_id uuid not null, target int not null,
    at timestamptz not null default clock_timestamp(), tx xid8 not null default pg_current_xact_id())`);
  await db.sql(`create or replace function test_log_targets() returns trigger language plpgsql as $$
declare
  row_data record;
  products uuid[];
  channels uuid[];
begin
  if tg_op = 'DELETE' then row_data := old; else row_data := new; end if;
  perform pg_advisory_xact_lock(424242);
  if tg_table_name = 'inventory_item' then products := array[row_data.product_id];
  elsif tg_table_name = 'product' then products := array[row_data.id];
  elsif tg_table_name = 'channel' then channels := array[row_data.id];
  elsif tg_table_name = 'channel_stock_cap' then products := array[row_data.product_id];
  elsif tg_table_name = 'channel_sku' then products := array[row_data.product_id];
  end if;
  insert into test_target_log (listing_id, target)
  select cs.id, ${LISTING_TARGET} from ${LISTING_FROM}
   where cs.product_id = any(coalesce(products, '{}')) or cs.channel_id = any(coalesce(channels, '{}'));
  return null;
end $$`);
  // Only the columns a target reads: the pushes' own writes to channel_sku must not take the lock.
  const events: Record<string, string> = {
    inventory_item: 'insert or update of on_hand, reserved',
    product: 'update of closed_on_channels',
    channel: 'update of sales_open',
    channel_stock_cap: 'insert or update or delete',
    channel_sku: 'insert or update of product_id',
  };
  for (const [table, event] of Object.entries(events)) {
    await db.sql(`create constraint trigger test_log_targets after ${event} on ${table}
      deferrable initially deferred for each row execute function test_log_targets()`);
  }
  await db.sql(`create table test_claim_log (listing_id uuid not null, owner text not null,
    at timestamptz not null default now())`);
  await db.sql(`create or replace function test_log_claim() returns trigger language plpgsql as $$
begin
  insert into test_claim_log (listing_id, owner) values (new.id, new.push_owner);
  return null;
end $$`);
  await db.sql(`create trigger test_log_claims after update of push_owner on channel_sku
    for each row when (new.push_owner is not null) execute function test_log_claim()`);
}

/** Every target the listing has had (recordTargets), by channel and platform SKU. */
export async function recordedTargets(db: SyncDb): Promise<Map<string, Set<number>>> {
  const rows = await db.sql<{ channel_code: string; platform_sku_id: string; target: number }>(
    `select distinct c.code as channel_code, cs.platform_sku_id, t.target
       from test_target_log t join channel_sku cs on cs.id = t.listing_id join channel c on c.id = cs.channel_id`,
  );
  const targets = new Map<string, Set<number>>();
  for (const row of rows) {
    const key = `${row.channel_code}/${row.platform_sku_id}`;
    if (!targets.has(key)) targets.set(key, new Set());
    targets.get(key)!.add(row.target);
  }
  return targets;
}

/** Quantities a fake held (after the one it started with) that were never its listing's target. */
export async function neverTargets(db: SyncDb, channels: ConnectedChannel[]): Promise<string[]> {
  const targets = await recordedTargets(db);
  const wrong: string[] = [];
  for (const channel of channels) {
    for (const listing of channel.listings) {
      const held = channel.sync.fake.history(listing.fakeSkuId, listing.locationId ?? undefined).slice(1);
      const allowed = targets.get(`${listing.channelCode}/${listing.platformSkuId}`) ?? new Set<number>();
      const bad = held.filter((q) => !allowed.has(q));
      if (bad.length) {
        wrong.push(
          `${listing.channelCode}/${listing.productCode}: held ${held.join(',')}; never targets: ${bad.join(',')}`,
        );
      }
    }
  }
  return wrong;
}

/** One SKU's part of a write a fake accepted, as the listing it belongs to. */
export interface ListingWrite {
  listing: MappedListing;
  platform: FakePlatformName;
  /** Date.now() at the fake: when the call arrived, when it was applied. */
  arrivedAt: number;
  appliedAt: number;
  before: number;
  after: number;
}

/** Every accepted write to the channels' listings, in the order the fakes applied them. */
export function listingWrites(channels: ConnectedChannel[]): ListingWrite[] {
  const writes: ListingWrite[] = [];
  for (const channel of channels) {
    for (const call of channel.sync.fake.calls) {
      if (!call.write || !call.accepted) continue;
      for (const change of call.changes ?? []) {
        const listing = channel.listings.find(
          (l) => l.fakeSkuId === change.skuId && (l.locationId ?? undefined) === change.locationId,
        );
        if (!listing) continue;
        writes.push({
          listing,
          platform: channel.sync.platform,
          arrivedAt: call.arrivedAt,
          appliedAt: call.appliedAt!,
          before: change.before,
          after: change.after,
        });
      }
    }
  }
  return writes.sort((a, b) => a.appliedAt - b.appliedAt);
}

const listingKey = (l: { channelCode: string; platformSkuId: string }) =>
  `${l.channelCode}/${l.platformSkuId}`;
const describeWrite = (w: ListingWrite) =>
  `${w.before}->${w.after} (arrived ${w.arrivedAt}, applied ${w.appliedAt})`;

/** Each listing's writes, in applied order. */
function byListing(writes: ListingWrite[]): Map<string, ListingWrite[]> {
  const grouped = new Map<string, ListingWrite[]>();
  for (const write of writes) {
    const key = listingKey(write.listing);
    if (!grouped.has(key)) grouped.set(key, []);
    grouped.get(key)!.push(write);
  }
  return grouped;
}

/**
 * Writes to one SKU that were under way at the same time: one arrived before the one applied just before it
 * was applied (what two pushes of one listing at once, or a write sent before an earlier one landed, look
 * like). Both times are the fake's Date.now(), so no clock is compared with another; a strict comparison of
 * millisecond floors never reports two writes that did not overlap.
 */
export function overlappingWrites(channels: ConnectedChannel[]): string[] {
  const problems: string[] = [];
  for (const [key, writes] of byListing(listingWrites(channels))) {
    writes.forEach((write, i) => {
      const previous = writes[i - 1];
      if (previous && write.arrivedAt < previous.appliedAt) {
        problems.push(`${key}: ${describeWrite(previous)} overlaps ${describeWrite(write)}`);
      }
    });
  }
  return problems;
}

/**
 * Kuaishou values that are a change applied twice: a write carrying the same change as the one applied just
 * before it, landing on that one's result (so it shows current − 2·delta from where the first started), when
 * it cannot have known of the first (they overlapped) or its value was no target in its push's window
 * (`outsideWindow`, from writesOutsideTheirWindow). Two equal steps that were both targets pass.
 */
export function doubledDeltas(
  writes: ListingWrite[],
  outsideWindow: Set<ListingWrite> = new Set(),
): string[] {
  const problems: string[] = [];
  for (const [key, skuWrites] of byListing(writes.filter((w) => w.platform === 'KUAISHOU'))) {
    skuWrites.forEach((write, i) => {
      const previous = skuWrites[i - 1];
      if (!previous) return;
      const delta = write.after - write.before;
      const doubled =
        delta !== 0 && previous.after - previous.before === delta && write.before === previous.after;
      if (doubled && (write.arrivedAt < previous.appliedAt || outsideWindow.has(write))) {
        problems.push(`${key}: ${describeWrite(previous)} then again ${describeWrite(write)}`);
      }
    });
  }
  return problems;
}

/**
 * Writes whose value was not the listing's target at any moment of their push's window: from the push's claim
 * (the listing's last claim before the write arrived; recordTargets) to the moment the fake applied it.
 *
 * What is sound, with PostgreSQL's clock (microseconds) and the fake's Date.now() (milliseconds, floored)
 * reading the same system clock: a target set by transaction T is current from T's commit until the commit
 * of the next transaction that changed it, U. T's commit lies after its last log entry, and U's before the
 * first entry of the transaction logged after U. So a value is accepted when T's last entry is before the
 * write was applied (+1 ms for the floor) and the entry after U is after the claim's transaction began (which
 * is no later than the snapshot the claim read in). The claim end of the window is thus loose by at most the
 * span of one logging transaction; the write end is exact to the millisecond.
 */
export async function writesOutsideTheirWindow(
  db: SyncDb,
  writes: ListingWrite[],
): Promise<{ problems: string[]; outside: Set<ListingWrite> }> {
  const log = await db.sql<{ key: string; target: number; at_us: string; tx: string }>(
    `select c.code || '/' || cs.platform_sku_id as key, t.target,
            (extract(epoch from t.at) * 1000000)::bigint::text as at_us, t.tx::text as tx
       from test_target_log t join channel_sku cs on cs.id = t.listing_id join channel c on c.id = cs.channel_id
      order by t.at`,
  );
  const claims = await db.sql<{ key: string; at_us: string }>(
    `select c.code || '/' || cs.platform_sku_id as key, (extract(epoch from l.at) * 1000000)::bigint::text as at_us
       from test_claim_log l join channel_sku cs on cs.id = l.listing_id join channel c on c.id = cs.channel_id
      order by l.at`,
  );
  // Each logging transaction's first and last entry; they follow one another (one lock until commit).
  const txs = new Map<string, { first: number; last: number }>();
  for (const row of log) {
    const at = Number(row.at_us);
    const tx = txs.get(row.tx);
    if (tx) tx.last = at;
    else txs.set(row.tx, { first: at, last: at });
  }
  const txOrder = [...txs.keys()];
  const nextFirst = new Map(txOrder.map((tx, i) => [tx, txs.get(txOrder[i + 1] ?? '')?.first ?? Infinity]));

  // Each listing's targets as spans: the value, the transaction that set it, the next one that changed it.
  const spans = new Map<string, { target: number; from: string; until: string | null }[]>();
  for (const row of log) {
    const list = spans.get(row.key) ?? [];
    spans.set(row.key, list);
    const last = list.at(-1);
    if (last?.target === row.target) continue;
    if (last) last.until = row.tx;
    list.push({ target: row.target, from: row.tx, until: null });
  }
  const claimsOf = new Map<string, number[]>();
  for (const row of claims) {
    const list = claimsOf.get(row.key) ?? [];
    claimsOf.set(row.key, list);
    list.push(Number(row.at_us));
  }

  const problems: string[] = [];
  const outside = new Set<ListingWrite>();
  for (const write of writes) {
    const key = listingKey(write.listing);
    const arrivedUs = (write.arrivedAt + 1) * 1000;
    const appliedUs = (write.appliedAt + 1) * 1000;
    const claim = (claimsOf.get(key) ?? []).filter((at) => at < arrivedUs).at(-1);
    if (claim === undefined) {
      problems.push(`${key}: ${describeWrite(write)} without a claim before it`);
      outside.add(write);
      continue;
    }
    const current = (spans.get(key) ?? []).filter(
      (span) =>
        txs.get(span.from)!.last < appliedUs && (span.until === null || nextFirst.get(span.until)! > claim),
    );
    if (!current.some((span) => span.target === write.after)) {
      problems.push(
        `${key}: ${describeWrite(write)} claimed at ${Math.round(claim / 1000)}; ` +
          `targets in its window: ${current.map((span) => span.target).join(',')}`,
      );
      outside.add(write);
    }
  }
  return { problems, outside };
}

/** How the chaos reaches the hub: its GraphQL endpoint and webhook door, with the ADMIN key. */
export interface ChaosHub {
  /** `http://127.0.0.1:<port>` */
  base: string;
  adminKey: string;
  /** Releases expired holds now (an in-process hub has no scheduler); a hub process's scheduler does it itself. */
  expireHolds?: () => Promise<unknown>;
}

export interface ChaosOptions {
  hub: ChaosHub;
  db: SyncDb;
  productCodes: string[];
  /** Channels whose sales may be closed and opened again. */
  channelCodes: string[];
  /** A storefront channel for placeOrder. */
  storefront: string;
  /** A Taobao channel with this webhook secret for webhook orders. */
  webhook: { channelCode: string; secret: string };
  durationMs: number;
  /** Operations in flight at once. */
  lanes?: number;
  /** Called once in a while during the run (kill and restart a hub, say), awaited by the lane that drew it. */
  midway?: () => Promise<void>;
}

/** How many operations of each kind ran, and how many the hub refused (insufficient stock and the like). */
export type ChaosReport = Record<string, { ok: number; refused: number }>;

/**
 * Random stock changes through every path the hub has, for `durationMs`: adjustments, holds released or left
 * to expire, storefront orders paid or cancelled, Taobao webhook orders (paid at once, or unpaid then paid or
 * closed), safety stock moved across the available number (closing and reopening), sales closed and opened
 * on a channel, caps set and cleared, reconciliations. Refusals are part of it (an order beyond the stock);
 * a hub that cannot be reached (being restarted) is waited for by the next operation.
 */
export async function runChaos(options: ChaosOptions): Promise<ChaosReport> {
  const { hub, db, productCodes } = options;
  const report: ChaosReport = {};
  const deadline = Date.now() + options.durationMs;
  const pick = <T>(items: T[]) => items[Math.floor(Math.random() * items.length)];
  const count = (kind: string, ok: boolean) => {
    report[kind] ??= { ok: 0, refused: 0 };
    report[kind][ok ? 'ok' : 'refused']++;
  };
  const gql = async (query: string, variables: Record<string, unknown>) => {
    const response = await fetch(`${hub.base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${hub.adminKey}` },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as { data?: Record<string, any> | null; errors?: unknown[] };
  };
  let seq = 0;
  const held: string[] = [];
  const unpaidOrders: string[] = [];
  const unpaidTrades: { tid: string; code: string; qty: number }[] = [];

  const taobaoTrade = (tid: string, code: string, qty: number, status: string) => ({
    tid_str: tid,
    tid: Number(tid),
    status,
    buyer_nick: 'chaos',
    created: '2026-11-11 20:15:32',
    payment: (qty * 10).toFixed(2),
    post_fee: '0.00',
    receiver_name: 'Chaos',
    receiver_state: '浙江省',
    receiver_city: '杭州市',
    receiver_address: '1 Test Road',
    orders: {
      order: [
        {
          oid_str: `${tid}1`,
          num_iid: 1,
          outer_sku_id: code,
          num: qty,
          price: '10.00',
          payment: (qty * 10).toFixed(2),
        },
      ],
    },
  });
  const webhook = async (payload: unknown) => {
    const raw = Buffer.from(JSON.stringify(payload), 'utf8');
    const mac = createHmac('sha256', options.webhook.secret).update(raw).digest('hex');
    const response = await fetch(`${hub.base}/webhooks/${options.webhook.channelCode}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-hub-signature-256': `sha256=${mac}` },
      body: new Uint8Array(raw),
    });
    await response.text();
    return response.status === 200;
  };

  const operations: Record<string, () => Promise<boolean>> = {
    adjust: async () =>
      !(
        await gql(
          `mutation($c: String!, $d: Int!) { adjustStock(productCode: $c, delta: $d, reason: "chaos") { available } }`,
          {
            c: pick(productCodes),
            d: pick([-3, -2, -1, 1, 2, 3, 5]),
          },
        )
      ).errors,
    hold: async () => {
      const r = await gql(
        `mutation($c: String!, $q: Int!, $t: Int) { reserveStock(productCode: $c, quantity: $q, ttlSeconds: $t) { id } }`,
        {
          c: pick(productCodes),
          q: pick([1, 2, 3]),
          // Some left to run out of time.
          t: pick([1, 1, 600]),
        },
      );
      if (r.data?.reserveStock) held.push(r.data.reserveStock.id);
      return !r.errors;
    },
    release: async () => {
      const id = held.shift();
      if (!id) return true;
      return !(await gql(`mutation($id: ID!) { releaseReservation(id: $id) { status } }`, { id })).errors;
    },
    expire: async () => {
      await hub.expireHolds?.();
      return true;
    },
    placeOrder: async () => {
      const r = await gql(`mutation($input: PlaceOrderInput!) { placeOrder(input: $input) { id } }`, {
        input: {
          channelCode: options.storefront,
          externalId: `chaos-${Date.now()}-${++seq}`,
          customerName: 'Chaos',
          shippingAddress: { line1: '1 Test Road' },
          lines: [{ productCode: pick(productCodes), quantity: pick([1, 2]), unitPrice: '10.00' }],
        },
      });
      if (r.data?.placeOrder) unpaidOrders.push(r.data.placeOrder.id);
      return !r.errors;
    },
    payOrCancel: async () => {
      const id = unpaidOrders.shift();
      if (!id) return true;
      const r =
        Math.random() < 0.5
          ? await gql(`mutation($id: ID!) { markPaid(orderId: $id) { status } }`, { id })
          : await gql(`mutation($id: ID!) { cancelOrder(orderId: $id, reason: "chaos") { status } }`, { id });
      return !r.errors;
    },
    webhookOrder: async () => {
      const tid = `${Date.now()}${String(++seq).padStart(5, '0')}`;
      const code = pick(productCodes);
      const qty = pick([1, 2]);
      const paid = Math.random() < 0.5;
      if (!paid) unpaidTrades.push({ tid, code, qty });
      return webhook(taobaoTrade(tid, code, qty, paid ? 'WAIT_SELLER_SEND_GOODS' : 'WAIT_BUYER_PAY'));
    },
    webhookPayOrClose: async () => {
      const trade = unpaidTrades.shift();
      if (!trade) return true;
      const status = Math.random() < 0.5 ? 'WAIT_SELLER_SEND_GOODS' : 'TRADE_CLOSED_BY_TAOBAO';
      return webhook(taobaoTrade(trade.tid, trade.code, trade.qty, status));
    },
    safetyStock: async () =>
      !(
        await gql(
          `mutation($c: String!, $s: Int!) { setSafetyStock(productCode: $c, safetyStock: $s) { available } }`,
          {
            c: pick(productCodes),
            s: pick([0, 0, 5, 10, 15, 20]),
          },
        )
      ).errors,
    salesOpen: async () =>
      !(
        await gql(
          `mutation($c: String!, $o: Boolean!) { setChannelSalesOpen(code: $c, open: $o) { salesOpen } }`,
          {
            c: pick(options.channelCodes),
            o: Math.random() < 0.6,
          },
        )
      ).errors,
    cap: async () => {
      const channelCode = pick(options.channelCodes);
      const productCode = pick(productCodes);
      if (Math.random() < 0.5) {
        await db.sql(
          `delete from channel_stock_cap using channel c, product p
            where c.code = $1 and p.product_code = $2 and channel_stock_cap.channel_id = c.id
              and channel_stock_cap.product_id = p.id`,
          [channelCode, productCode],
        );
      } else {
        await db.sql(
          `insert into channel_stock_cap (channel_id, product_id, cap)
           select c.id, p.id, $3 from channel c, product p where c.code = $1 and p.product_code = $2
           on conflict (channel_id, product_id) do update set cap = excluded.cap`,
          [channelCode, productCode, pick([0, 3, 10, 25])],
        );
      }
      return true;
    },
    reconcile: async () =>
      !(
        await gql(
          `mutation($counts: [StockCountInput!]!) { reconcileInventory(counts: $counts) { mismatches } }`,
          {
            counts: [{ productCode: pick(productCodes), physicalCount: pick([10, 40, 80]) }],
          },
        )
      ).errors,
  };
  // Stock moves most often; settings now and then.
  const weighted = [
    ...Array<string>(6).fill('adjust'),
    ...Array<string>(3).fill('hold'),
    ...Array<string>(2).fill('release'),
    'expire',
    ...Array<string>(2).fill('placeOrder'),
    ...Array<string>(2).fill('payOrCancel'),
    ...Array<string>(3).fill('webhookOrder'),
    ...Array<string>(2).fill('webhookPayOrClose'),
    'safetyStock',
    'salesOpen',
    'cap',
    'reconcile',
  ];
  let midwayDone = !options.midway;
  const lane = async () => {
    while (Date.now() < deadline) {
      if (!midwayDone && Date.now() > deadline - options.durationMs / 2) {
        midwayDone = true;
        await options.midway!();
        continue;
      }
      const kind = pick(weighted);
      try {
        count(kind, await operations[kind]());
      } catch {
        // The hub is away (restarting): the next operation tries again after a pause (load pacing, not a
        // synchronisation: nothing waits on it), so the lanes do not spin on refused connections.
        count(kind, false);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  };
  await Promise.all(Array.from({ length: options.lanes ?? 3 }, lane));
  return report;
}
