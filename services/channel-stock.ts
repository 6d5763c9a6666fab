import type { EntityManager } from '@mikro-orm/postgresql';
import {
  ChannelStockState,
  Platform,
  Role,
  type ConnectorHealth,
  type IngestionMode,
} from '../common/enums.js';
import {
  BadUserInputError,
  NotFoundError,
  ProductsNotFoundError,
  SecretKeyMissingError,
  StockSyncDisabledError,
  StorefrontNotPushedError,
} from '../common/errors.js';
import { JOB_QUEUE_SCHEMA } from '../common/job-queue.js';
import type { Channel } from '../entities/index.js';
import { assertChannelAccess, channelScope } from './access.js';
import { requireChannel } from './channels.js';
import type { RequestContext } from './context.js';
import { LISTING_FROM, LISTING_SELECT, LISTING_STATE, type ListingRow } from './stock-sync/listings.js';
import { credentialAad } from './secret-box.js';
import { defaultBaseUrl } from './stock-sync/platforms/index.js';
import { readRows } from './read-db.js';

/**
 * The stock sync as the API shows and steers it: a channel's platform credentials (sealed, write-only), its
 * switch, per-channel caps, manual pushes, and each listing's target and state. The pushing itself is
 * services/stock-sync; every number here comes from listings.ts's SQL, so the API and the pushes agree.
 */

export interface ChannelApiInput {
  baseUrl?: string | null;
  appKey?: string | null;
  appSecret?: string | null;
  accessToken?: string | null;
  shopId?: string | null;
  signMethod?: string | null;
  requestsPerSecond?: number | null;
  pushDelayMs?: number | null;
}

type Credential = 'appKey' | 'appSecret' | 'accessToken' | 'shopId';

/** What each platform's client reads (docs/stock-sync.md, "credential mapping"). */
const NEEDS: Record<
  Exclude<Platform, Platform.STOREFRONT>,
  { required: Credential[]; unused: Credential[]; signMethods: string[] }
> = {
  [Platform.TAOBAO]: {
    required: ['appKey', 'appSecret', 'accessToken'],
    unused: ['shopId'],
    signMethods: ['md5', 'hmac', 'hmac-sha256'],
  },
  [Platform.JD]: { required: ['appKey', 'appSecret', 'accessToken'], unused: ['shopId'], signMethods: [] },
  [Platform.PINDUODUO]: {
    required: ['appKey', 'appSecret', 'accessToken'],
    unused: ['shopId'],
    signMethods: [],
  },
  [Platform.DOUYIN]: {
    required: ['appKey', 'appSecret', 'accessToken'],
    unused: ['shopId'],
    signMethods: [],
  },
  [Platform.KUAISHOU]: {
    required: ['appKey', 'appSecret', 'accessToken'],
    unused: ['shopId'],
    signMethods: ['MD5', 'HMAC_SHA256'],
  },
  // Youzan's token is fetched with the app's secret for the shop (kdt_id).
  [Platform.YOUZAN]: {
    required: ['appKey', 'appSecret', 'shopId'],
    unused: ['accessToken'],
    signMethods: [],
  },
  // The shop (shopId) or a baseUrl: checked apart.
  [Platform.SHOPIFY]: { required: ['accessToken'], unused: ['appKey', 'appSecret'], signMethods: [] },
};

type TextField = 'baseUrl' | 'appKey' | 'appSecret' | 'accessToken' | 'shopId' | 'signMethod';

/** The longest value of each field: its column's size (channel_api); a credential far longer is a mistake. */
const MAX_LENGTH: Record<TextField, number> = {
  baseUrl: 512,
  appKey: 255,
  appSecret: 4096,
  accessToken: 4096,
  shopId: 255,
  signMethod: 32,
};

const MAX_REQUESTS_PER_SECOND = 1000;
const MAX_PUSH_DELAY_MS = 60_000;
/** channel_api.push_delay_ms's default. */
const DEFAULT_PUSH_DELAY_MS = 1000;

interface StoredApi {
  base_url: string | null;
  app_key: string | null;
  app_secret_sealed: string | null;
  access_token_sealed: string | null;
  shop_id: string | null;
  sign_method: string | null;
  requests_per_second: number | null;
  push_delay_ms: number;
}

/**
 * Sets a channel's platform credentials. A field left out keeps what is stored and null clears it, so a token
 * can be replaced alone. Messages name the field, never its value: some are secrets.
 */
export async function setChannelApi(
  ctx: RequestContext,
  channelCode: string,
  input: ChannelApiInput,
): Promise<Channel> {
  const channel = await requireChannel(ctx, channelCode);
  const { platform } = channel;
  if (platform === Platform.STOREFRONT) throw new StorefrontNotPushedError('channelCode');
  await ctx.em.transactional(async (tx) => {
    // The row, made first when there is none, stays locked until commit: a call made at the same time merges
    // its fields into what this one stored, instead of both merging into what was there before.
    await tx.execute(`insert into channel_api (channel_id) values (?) on conflict (channel_id) do nothing`, [
      channel.id,
    ]);
    const [stored] = await tx.execute<StoredApi[]>(
      `select base_url, app_key, app_secret_sealed, access_token_sealed, shop_id, sign_method,
              requests_per_second, push_delay_ms
         from channel_api where channel_id = ? for update`,
      [channel.id],
    );
    const next = mergeApi(ctx, channel.id, platform, input, stored);
    // The table's trigger queues a push of every listing of the channel: new credentials are worth a new try.
    await tx.execute(
      `update channel_api set base_url = ?, app_key = ?, app_secret_sealed = ?, access_token_sealed = ?,
              shop_id = ?, sign_method = ?, requests_per_second = ?, push_delay_ms = ?, updated_at = now()
        where channel_id = ?`,
      [
        next.base_url,
        next.app_key,
        next.app_secret_sealed,
        next.access_token_sealed,
        next.shop_id,
        next.sign_method,
        next.requests_per_second,
        next.push_delay_ms,
        channel.id,
      ],
    );
  });
  return channel;
}

/** What is stored after `input` is applied to `stored`, checked for the channel's platform. */
function mergeApi(
  ctx: RequestContext,
  channelId: string,
  platform: Exclude<Platform, Platform.STOREFRONT>,
  input: ChannelApiInput,
  stored: StoredApi,
): StoredApi {
  const text = (field: TextField, current: string | null): string | null => {
    const value = input[field];
    if (value === undefined) return current;
    if (value === null) return null;
    const trimmed = value.trim();
    if (!trimmed) throw new BadUserInputError(`${field} must not be empty; null clears it.`, field);
    if (trimmed.length > MAX_LENGTH[field]) {
      throw new BadUserInputError(`${field} has at most ${MAX_LENGTH[field]} characters.`, field);
    }
    return trimmed;
  };
  const box = ctx.hub.secretBox;
  const secret = (field: 'appSecret' | 'accessToken', current: string | null): string | null => {
    if (input[field] === undefined) return current;
    const plain = text(field, null);
    if (plain === null) return null;
    if (!box) throw new SecretKeyMissingError();
    return box.seal(plain, credentialAad(channelId, field));
  };
  const next: StoredApi = {
    base_url: baseUrlOf(text('baseUrl', stored.base_url)),
    app_key: text('appKey', stored.app_key),
    app_secret_sealed: secret('appSecret', stored.app_secret_sealed),
    access_token_sealed: secret('accessToken', stored.access_token_sealed),
    shop_id: text('shopId', stored.shop_id),
    sign_method: text('signMethod', stored.sign_method),
    requests_per_second:
      input.requestsPerSecond === undefined ? stored.requests_per_second : input.requestsPerSecond,
    push_delay_ms:
      input.pushDelayMs === undefined ? stored.push_delay_ms : (input.pushDelayMs ?? DEFAULT_PUSH_DELAY_MS),
  };
  checkForPlatform(platform, input, next);
  const rps = next.requests_per_second;
  if (rps !== null && !(Number.isFinite(rps) && rps > 0 && rps <= MAX_REQUESTS_PER_SECOND)) {
    throw new BadUserInputError(
      `requestsPerSecond must be above 0 and at most ${MAX_REQUESTS_PER_SECOND}; null: the platform's default.`,
      'requestsPerSecond',
    );
  }
  if (
    !Number.isInteger(next.push_delay_ms) ||
    next.push_delay_ms < 0 ||
    next.push_delay_ms > MAX_PUSH_DELAY_MS
  ) {
    throw new BadUserInputError(`pushDelayMs must be 0 to ${MAX_PUSH_DELAY_MS}.`, 'pushDelayMs');
  }
  return next;
}

/** Forgets a channel's platform credentials; its pushes fail (and say why) until new ones are set. */
export async function clearChannelApi(ctx: RequestContext, channelCode: string): Promise<Channel> {
  const channel = await requireChannel(ctx, channelCode);
  await ctx.em.execute(`delete from channel_api where channel_id = ?`, [channel.id]);
  return channel;
}

function baseUrlOf(value: string | null): string | null {
  if (value === null) return null;
  let url: URL | null = null;
  try {
    url = new URL(value);
  } catch {
    // refused below
  }
  // The clients append their paths and queries to it, and credentials go sealed in their own fields.
  if (
    !url ||
    (url.protocol !== 'http:' && url.protocol !== 'https:') ||
    url.username ||
    url.password ||
    /[\s?#]/.test(value)
  ) {
    throw new BadUserInputError(
      "baseUrl must be an http:// or https:// URL with no user, password, query or fragment; null: the platform's gateway.",
      'baseUrl',
    );
  }
  // Without its trailing slashes: the clients append paths that start with one.
  return value.replace(/\/+$/, '');
}

function checkForPlatform(
  platform: Exclude<Platform, Platform.STOREFRONT>,
  input: ChannelApiInput,
  next: StoredApi,
): void {
  const needs = NEEDS[platform];
  const has: Record<Credential, boolean> = {
    appKey: next.app_key !== null,
    appSecret: next.app_secret_sealed !== null,
    accessToken: next.access_token_sealed !== null,
    shopId: next.shop_id !== null,
  };
  for (const field of needs.unused) {
    if (input[field] != null) {
      throw new BadUserInputError(`${field} is not used by ${platform} channels; leave it out.`, field);
    }
  }
  for (const field of needs.required) {
    if (!has[field]) throw new BadUserInputError(`A ${platform} channel needs ${field}.`, field);
  }
  if (next.sign_method !== null && !needs.signMethods.includes(next.sign_method)) {
    throw new BadUserInputError(
      needs.signMethods.length
        ? `signMethod must be one of ${needs.signMethods.join(', ')} for ${platform}.`
        : `${platform} has one signing method: leave signMethod out.`,
      'signMethod',
    );
  }
  if (platform === Platform.SHOPIFY && next.base_url === null) {
    try {
      defaultBaseUrl(platform, next.shop_id);
    } catch (err) {
      throw new BadUserInputError((err as Error).message, 'shopId');
    }
  }
}

/** A channel's API settings as ADMINs see them: never a secret, only whether one is set. */
export interface ChannelApiView {
  baseUrl: string | null;
  defaultGateway: boolean;
  appKey: string | null;
  shopId: string | null;
  signMethod: string | null;
  requestsPerSecond: number | null;
  pushDelayMs: number;
  hasAppSecret: boolean;
  hasAccessToken: boolean;
  updatedAt: Date;
}

/** A channel's API settings for an ADMIN key; null for any other key, and where none are set. */
export async function channelApiOf(ctx: RequestContext, channelId: string): Promise<ChannelApiView | null> {
  return ctx.principal?.role === Role.ADMIN ? ctx.loaders.channelApiById.load(channelId) : null;
}

/** The API settings of these channels (null where none are set), in one statement. */
export async function loadChannelApis(
  em: EntityManager,
  channelIds: readonly string[],
): Promise<(ChannelApiView | null)[]> {
  const rows = await em.execute<
    {
      channel_id: string;
      platform: Platform;
      base_url: string | null;
      app_key: string | null;
      shop_id: string | null;
      sign_method: string | null;
      requests_per_second: number | null;
      push_delay_ms: number;
      has_app_secret: boolean;
      has_access_token: boolean;
      updated_at: Date;
    }[]
  >(
    `select a.channel_id, c.platform, a.base_url, a.app_key, a.shop_id, a.sign_method, a.requests_per_second,
            a.push_delay_ms, a.app_secret_sealed is not null as has_app_secret,
            a.access_token_sealed is not null as has_access_token, a.updated_at
       from channel_api a join channel c on c.id = a.channel_id
      where a.channel_id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
    [JSON.stringify(channelIds)],
  );
  const byId = new Map(
    rows.map((row) => [
      row.channel_id,
      {
        baseUrl: row.base_url ?? gatewayOf(row.platform, row.shop_id),
        defaultGateway: row.base_url === null,
        appKey: row.app_key,
        shopId: row.shop_id,
        signMethod: row.sign_method,
        requestsPerSecond: row.requests_per_second,
        pushDelayMs: row.push_delay_ms,
        hasAppSecret: row.has_app_secret,
        hasAccessToken: row.has_access_token,
        updatedAt: row.updated_at,
      },
    ]),
  );
  return channelIds.map((id) => byId.get(id) ?? null);
}

/** The real gateway, or null when none can be worked out (a storefront; a Shopify shop never named). */
function gatewayOf(platform: Platform, shopId: string | null): string | null {
  try {
    return defaultBaseUrl(platform, shopId);
  } catch {
    return null;
  }
}

export interface ChannelStockSyncView {
  enabled: boolean;
  listings: number;
  pending: number;
  failed: number;
  oldestPendingSeconds: number | null;
}

/**
 * Where each channel's listings stand, counted by the database in one statement. A listing has waited since
 * its queued push was first asked for (a push under way: since it started; none queued: since it was last
 * confirmed, or mapped).
 */
export async function loadStockSyncSummaries(
  em: EntityManager,
  channelIds: readonly string[],
): Promise<ChannelStockSyncView[]> {
  const rows = await em.execute<
    {
      channel_id: string;
      enabled: boolean;
      listings: number;
      pending: number;
      failed: number;
      oldest_pending_seconds: number | null;
    }[]
  >(
    `with l as (
       select cs.id, cs.channel_id, cs.product_id, cs.push_started_at, cs.confirmed_at, cs.created_at, ${LISTING_STATE} as state
         from ${LISTING_FROM}
        where cs.channel_id in (select value::uuid from jsonb_array_elements_text(?::jsonb))
     ), waiting as (
       select l.channel_id,
              coalesce((select min(j.created_at) from ${JOB_QUEUE_SCHEMA}._private_jobs j
                         where j.key in ('stock-sync:' || l.id, 'stock-sync-product:' || l.product_id)),
                       l.push_started_at, l.confirmed_at, l.created_at) as since
         from l where l.state in ('PENDING', 'THROTTLED')
     )
     select c.id as channel_id, c.stock_sync as enabled,
            (select count(*) from l where l.channel_id = c.id)::int as listings,
            (select count(*) from waiting w where w.channel_id = c.id)::int as pending,
            (select count(*) from l where l.channel_id = c.id and l.state = 'FAILED')::int as failed,
            (select extract(epoch from now() - min(w.since)) from waiting w where w.channel_id = c.id)::float8
              as oldest_pending_seconds
       from channel c
      where c.id in (select value::uuid from jsonb_array_elements_text(?::jsonb))`,
    [JSON.stringify(channelIds), JSON.stringify(channelIds)],
  );
  const byId = new Map(rows.map((row) => [row.channel_id, row]));
  return channelIds.map((id) => {
    const row = byId.get(id);
    return {
      enabled: row?.enabled ?? false,
      listings: row?.listings ?? 0,
      pending: row?.pending ?? 0,
      failed: row?.failed ?? 0,
      oldestPendingSeconds:
        row?.oldest_pending_seconds == null ? null : Math.max(0, row.oldest_pending_seconds),
    };
  });
}

/** A channel as a listing carries it, shaped like the GraphQL `Channel`. */
export interface ChannelView {
  id: string;
  code: string;
  platform: Platform;
  name: string;
  isCore: boolean;
  salesOpen: boolean;
  ingestionModes: IngestionMode[];
  health: ConnectorHealth;
  lastHeartbeatAt: Date | null;
  lastOrderAt: Date | null;
}

/** One listing, shaped like the GraphQL `ChannelStock`. */
export interface ChannelStockView {
  listingId: string;
  productId: string;
  channel: ChannelView;
  productCode: string;
  platformSkuId: string;
  platformItemId: string | null;
  locationId: string | null;
  target: number;
  confirmed: number | null;
  confirmedAt: Date | null;
  state: ChannelStockState;
  lastError: string | null;
  cap: number | null;
}

export function toChannelStock(row: ListingRow): ChannelStockView {
  return {
    listingId: row.listing_id,
    productId: row.product_id,
    productCode: row.product_code,
    platformSkuId: row.platform_sku_id,
    platformItemId: row.platform_item_id,
    locationId: row.location_id,
    target: row.target,
    confirmed: row.confirmed,
    confirmedAt: row.confirmed_at,
    state: row.state,
    lastError: row.last_error,
    cap: row.cap,
    channel: {
      id: row.channel_id,
      code: row.channel_code,
      platform: row.channel_platform,
      name: row.channel_name,
      isCore: row.channel_is_core,
      salesOpen: row.channel_sales_open,
      ingestionModes: row.channel_ingestion_modes,
      health: row.channel_health,
      lastHeartbeatAt: row.channel_last_heartbeat_at,
      lastOrderAt: row.channel_last_order_at,
    },
  };
}

/** The product's listings the caller may see: a channel's key sees its own channel's only. */
export async function channelStockOf(ctx: RequestContext, productId: string): Promise<ChannelStockView[]> {
  const listings = await ctx.loaders.channelStockByProductId.load(productId);
  const scope = channelScope(ctx);
  return scope === null ? listings : listings.filter((listing) => listing.channel.code === scope);
}

/** Every listing of these products, by channel code then platform SKU, in one statement. */
export async function loadChannelStockByProduct(
  em: EntityManager,
  productIds: readonly string[],
): Promise<ChannelStockView[][]> {
  const rows = await readRows<ListingRow>(
    em,
    `${LISTING_SELECT}
      where cs.product_id in (select value::uuid from jsonb_array_elements_text(?::jsonb))
      order by c.code, cs.platform_sku_id`,
    [JSON.stringify(productIds)],
  );
  const byProduct = new Map<string, ChannelStockView[]>(productIds.map((id) => [id, []]));
  for (const row of rows) byProduct.get(row.product_id)?.push(toChannelStock(row));
  return productIds.map((id) => byProduct.get(id)!);
}

/**
 * Caps what the channel shows of a product (null lifts the cap); the database queues the pushes. Returns the
 * product's listing on the channel (the first by platform SKU when it has several), or null when it has none.
 */
export async function setChannelStockCap(
  ctx: RequestContext,
  channelCode: string,
  productCode: string,
  cap: number | null,
): Promise<ChannelStockView | null> {
  if (cap !== null && (!Number.isInteger(cap) || cap < 0)) {
    throw new BadUserInputError('cap must be 0 or more; null lifts it.', 'cap');
  }
  const channel = await requireChannel(ctx, channelCode);
  if (channel.platform === Platform.STOREFRONT) throw new StorefrontNotPushedError('channelCode');
  const product = await ctx.loaders.productByCode.load(productCode);
  if (!product) throw new NotFoundError('Product', productCode);
  if (cap === null) {
    await ctx.em.execute(`delete from channel_stock_cap where channel_id = ? and product_id = ?`, [
      channel.id,
      product.id,
    ]);
  } else {
    await ctx.em.execute(
      `insert into channel_stock_cap (channel_id, product_id, cap) values (?, ?, ?)
       on conflict (channel_id, product_id) do update set cap = excluded.cap`,
      [channel.id, product.id, cap],
    );
  }
  const [row] = await ctx.em.execute<ListingRow[]>(
    `${LISTING_SELECT} where cs.channel_id = ? and cs.product_id = ? order by cs.platform_sku_id limit 1`,
    [channel.id, product.id],
  );
  return row ? toChannelStock(row) : null;
}

/**
 * Queues a push now of the channel's listings (of these products only, when given) and lets FAILED ones be
 * tried again: their state goes back to PENDING, so the sweep also keeps at them. Returns how many were queued.
 */
export async function syncStock(
  ctx: RequestContext,
  channelCode: string,
  productCodes: readonly string[] | null,
): Promise<number> {
  if (productCodes?.length === 0) {
    throw new BadUserInputError(
      'Name at least one product, or leave productCodes out to push them all.',
      'productCodes',
    );
  }
  const channel = await requireChannel(ctx, channelCode);
  if (!channel.stockSync || channel.platform === Platform.STOREFRONT) {
    throw new StockSyncDisabledError(channelCode);
  }
  const codes = productCodes ? [...new Set(productCodes)] : null;
  if (codes) {
    const products = await ctx.loaders.productByCode.loadMany(codes);
    const missing = codes.filter((_, i) => !products[i] || products[i] instanceof Error);
    if (missing.length) throw new ProductsNotFoundError(missing);
  }
  const [row] = await ctx.em.execute<{ queued: number }[]>(
    `with picked as (
       select cs.id from channel_sku cs join product p on p.id = cs.product_id
        where cs.channel_id = ? and (?::jsonb is null or p.product_code in (select jsonb_array_elements_text(?::jsonb)))
     ), retried as (
       update channel_sku cs set sync_state = 'PENDING', sync_attempts = 0
        where cs.id in (select id from picked) and cs.sync_state = 'FAILED'
     )
     select hub_stock_sync_enqueue(array(select id from picked), now()) as queued`,
    [channel.id, codes && JSON.stringify(codes), codes && JSON.stringify(codes)],
  );
  return row?.queued ?? 0;
}

/**
 * Which channel's listing changes a subscriber gets: the one asked for (a channel's key: its own only), or
 * every channel's (a channel's key: its own).
 */
export function channelStockSubscription(
  ctx: RequestContext,
  channelCode: string | null | undefined,
): (listing: ChannelStockView) => boolean {
  if (channelCode != null) assertChannelAccess(ctx, channelCode);
  const only = channelCode ?? channelScope(ctx);
  return (listing) => only === null || listing.channel.code === only;
}
