import pg from 'pg';
import type { Logger } from 'pino';
import type { StockAlertKind } from '../common/enums.js';
import { toChannelStock } from '../services/channel-stock.js';
import { LISTING_SELECT, type ListingRow } from '../services/stock-sync/listings.js';
import type { HubMetrics } from '../services/metrics.js';
import type { EventBus, InventoryEvent, StockAlertEvent } from './bus.js';

export const ALERT_CHANNEL = 'hub_stock_alert';
export const INVENTORY_CHANNEL = 'hub_inventory';
/** Listings' sync state changed (sent on commit by a trigger); the payload is their channel_sku ids, comma-separated. */
export const CHANNEL_STOCK_CHANNEL = 'hub_channel_stock';
/** Order events were stored (sent on commit by a trigger): they wait for their public seq. */
export const ORDER_EVENTS_PENDING_CHANNEL = 'hub_order_event_pending';
/** Order events were numbered; the payload is the highest seq. */
export const ORDER_EVENTS_CHANNEL = 'hub_order_event';
/** An API key was revoked (sent on commit by a trigger); the payload is its id. */
export const API_KEY_REVOKED_CHANNEL = 'hub_api_key_revoked';
/** How the listener's connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'order-hub-listener';

/** How far back a reconnect looks for alerts committed late (their id is taken at insert, not at commit). */
const CATCH_UP_MARGIN_MS = 5 * 60 * 1000;
/** How many published alert ids and inventory figures are remembered to skip duplicates. */
const REMEMBERED = 10_000;

const ALERT_COLUMNS = `id::text as id, kind, product_code, available, threshold, message,
  channels_closed, channels_reopened, channel_code, bucket_start, expected_orders, actual_orders, order_id, created_at`;
const INVENTORY_COLUMNS = `product_code, on_hand, reserved, safety_stock, updated_at`;

interface AlertRow {
  id: string;
  kind: StockAlertKind;
  product_code: string;
  available: number;
  threshold: number | null;
  message: string;
  channels_closed: string[];
  channels_reopened: string[];
  channel_code: string | null;
  bucket_start: Date | null;
  expected_orders: number | null;
  actual_orders: number | null;
  order_id: string | null;
  created_at: Date;
}
interface InventoryRow {
  product_code: string;
  on_hand: number;
  reserved: number;
  safety_stock: number;
  updated_at: Date;
}

export interface PostgresListenerOptions {
  databaseUrl: string;
  bus: EventBus;
  logger: Logger;
  /** Counts the alerts heard (after commit, each once) and observes their lag. */
  metrics: HubMetrics;
  /** The longest wait between reconnect attempts. */
  maxBackoffMs?: number;
  /** Wake-ups for the order event feed. */
  orderEvents?: {
    pending(): void;
    /** Given when numbered events are read from the table on notification (PUBSUB=postgres). */
    numbered?: () => void;
    /** The connection was lost and is back: look for what was missed. */
    reconnected(): void;
  };
  /** Revoked API keys: their websockets are closed. */
  apiKeys?: {
    revoked(keyId: string): void;
    /** The keys with websockets open here, checked again after a reconnect (a revocation may have been missed). */
    openKeyIds(): string[];
  };
}

/**
 * One dedicated connection per hub process: LISTENs for the notifications the
 * database's triggers send on commit, loads what they name (batched per tick) and
 * publishes it to the bus. On connection loss it reconnects with backoff and
 * publishes the alerts (and inventory figures) committed meanwhile, so none is lost. Listing changes
 * (channelStockChanged) are not caught up: their subscribers are ended then (SUBSCRIBER_FELL_BEHIND), so a
 * board reads the listings' current state again. Listings are loaded only while this process has subscribers
 * to them, on a chain of their own: their loads never hold up alerts and stock figures.
 */
export class PostgresListener {
  private client: pg.Client | null = null;
  private stopped = false;
  private attempt = 0;
  private retry: NodeJS.Timeout | null = null;
  /** When the connection was lost; null while connected. */
  private lostAt: Date | null = null;
  private connectedOnce = false;
  private readonly pendingAlerts = new Set<string>();
  private readonly pendingCodes = new Set<string>();
  private readonly pendingListings = new Set<string>();
  private flushScheduled = false;
  private work: Promise<void> = Promise.resolve();
  private listingWork: Promise<void> = Promise.resolve();
  private readonly publishedAlerts = new Set<string>();
  private readonly lastFigures = new Map<string, string>();

  constructor(private readonly options: PostgresListenerOptions) {}

  /** Connects once (the hub starts even when this fails: it keeps trying in the background). */
  async start(): Promise<void> {
    await this.connect();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = null;
    await Promise.all([this.work, this.listingWork]).catch(() => undefined);
    await client?.end().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    if (this.stopped) return;
    const client = new pg.Client({
      connectionString: this.options.databaseUrl,
      application_name: LISTENER_APPLICATION_NAME,
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    client.on('notification', (message) => this.notified(message.channel, message.payload));
    try {
      await client.connect();
      const channels = [ALERT_CHANNEL, INVENTORY_CHANNEL, CHANNEL_STOCK_CHANNEL];
      if (this.options.orderEvents) channels.push(ORDER_EVENTS_PENDING_CHANNEL);
      if (this.options.orderEvents?.numbered) channels.push(ORDER_EVENTS_CHANNEL);
      if (this.options.apiKeys) channels.push(API_KEY_REVOKED_CHANNEL);
      await client.query(channels.map((c) => `listen ${c};`).join(' '));
      if (this.stopped) {
        await client.end();
        return;
      }
      this.client = client;
      this.attempt = 0;
      const since = this.lostAt;
      this.lostAt = null;
      // Also after a first attempt that failed: websockets may have opened meanwhile.
      if (since) this.enqueue(() => this.recheckKeys(client));
      if (since) {
        this.options.bus.dropSubscribers(
          'channelStockChanged',
          "may have missed listing changes while this hub's database listener reconnected",
        );
      }
      if (this.connectedOnce && since) {
        this.options.logger.info('subscriptions: listening again, catching up');
        this.enqueue(() => this.catchUp(client, since));
        this.options.orderEvents?.reconnected();
      }
      this.connectedOnce = true;
    } catch (err) {
      void client.end().catch(() => undefined);
      this.lost(client, err);
    }
  }

  private lost(client: pg.Client, err: unknown): void {
    if (this.stopped) return;
    if (this.client !== null && this.client !== client) return;
    if (this.retry) return;
    this.client = null;
    this.lostAt ??= new Date();
    const delay = Math.min(this.options.maxBackoffMs ?? 10_000, 250 * 2 ** this.attempt);
    this.attempt++;
    this.options.logger.warn({ err, retryInMs: delay }, 'subscriptions: database listener connection lost');
    this.retry = setTimeout(() => {
      this.retry = null;
      void this.connect();
    }, delay);
    this.retry.unref();
  }

  private notified(channel: string, payload: string | undefined): void {
    if (channel === ORDER_EVENTS_PENDING_CHANNEL) return this.options.orderEvents?.pending();
    if (channel === ORDER_EVENTS_CHANNEL) return this.options.orderEvents?.numbered?.();
    if (!payload) return;
    if (channel === API_KEY_REVOKED_CHANNEL) return this.options.apiKeys?.revoked(payload);
    if (channel === ALERT_CHANNEL) this.pendingAlerts.add(payload);
    else if (channel === INVENTORY_CHANNEL) this.pendingCodes.add(payload);
    else if (channel === CHANNEL_STOCK_CHANNEL) {
      // No one here to tell: not worth a load (a later subscriber reads the listings' state first).
      if (this.options.bus.listenerCount('channelStockChanged') === 0) return;
      // A stock change names all its listings in one notification, comma-separated.
      for (const id of payload.split(',')) this.pendingListings.add(id);
    } else return;
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    setImmediate(() => {
      this.flushScheduled = false;
      const client = this.client;
      if (!client) return;
      const ids = [...this.pendingAlerts];
      const codes = [...this.pendingCodes];
      const listings = [...this.pendingListings];
      this.pendingAlerts.clear();
      this.pendingCodes.clear();
      this.pendingListings.clear();
      if (ids.length > 0 || codes.length > 0) this.enqueue(() => this.load(client, ids, codes));
      if (listings.length > 0) this.enqueue(() => this.loadListings(client, listings), 'listingWork');
    });
  }

  /** Runs the loads of a chain one after another, so its events leave in the order they came. */
  private enqueue(task: () => Promise<void>, chain: 'work' | 'listingWork' = 'work'): void {
    this[chain] = this[chain].then(task).catch((err: unknown) => {
      this.options.logger.error({ err }, 'subscriptions: could not load notified changes');
    });
  }

  private async load(client: pg.Client, alertIds: string[], codes: string[]): Promise<void> {
    if (alertIds.length > 0) {
      const { rows } = await client.query<AlertRow>(
        `select ${ALERT_COLUMNS} from stock_alert where id = any($1::bigint[]) order by id`,
        [alertIds],
      );
      this.publishAlerts(rows);
    }
    if (codes.length > 0) {
      const { rows } = await client.query<InventoryRow>(
        `select ${INVENTORY_COLUMNS} from inventory_item where product_code = any($1::text[])`,
        [codes],
      );
      this.publishInventory(rows);
    }
  }

  private async loadListings(client: pg.Client, listings: string[]): Promise<void> {
    // As they stand now (a listing deleted meanwhile has nothing left to show).
    const { rows } = await client.query<ListingRow>(`${LISTING_SELECT} where cs.id = any($1::uuid[])`, [
      listings,
    ]);
    for (const row of rows) this.options.bus.publish('channelStockChanged', toChannelStock(row));
  }

  /** Closes the websockets of keys revoked (or gone) while no notification could arrive. */
  private async recheckKeys(client: pg.Client): Promise<void> {
    const apiKeys = this.options.apiKeys;
    const open = apiKeys?.openKeyIds() ?? [];
    if (!apiKeys || open.length === 0) return;
    const { rows } = await client.query<{ id: string }>(
      `select id::text as id from api_key where id = any($1::uuid[]) and revoked_at is null`,
      [open],
    );
    const valid = new Set(rows.map((row) => row.id));
    for (const keyId of open) if (!valid.has(keyId)) apiKeys.revoked(keyId);
  }

  private async catchUp(client: pg.Client, since: Date): Promise<void> {
    const from = new Date(since.getTime() - CATCH_UP_MARGIN_MS);
    const alerts = await client.query<AlertRow>(
      `select ${ALERT_COLUMNS} from stock_alert where created_at >= $1 order by id`,
      [from],
    );
    this.publishAlerts(alerts.rows);
    const items = await client.query<InventoryRow>(
      `select ${INVENTORY_COLUMNS} from inventory_item where updated_at >= $1`,
      [from],
    );
    this.publishInventory(items.rows);
  }

  private publishAlerts(rows: AlertRow[]): void {
    for (const row of rows) {
      if (this.publishedAlerts.has(row.id)) continue;
      remember(this.publishedAlerts, row.id);
      const alert = toAlert(row);
      this.options.bus.publish('stockAlert', alert);
      // Here, not where alerts are inserted (five statements, some rolled back): each committed alert, once.
      this.options.metrics.alerted(alert.kind);
      this.options.metrics.eventDelivered('stockAlert', alert.createdAt);
    }
  }

  private publishInventory(rows: InventoryRow[]): void {
    for (const row of rows) {
      const figures = `${row.on_hand}/${row.reserved}/${row.safety_stock}`;
      if (this.lastFigures.get(row.product_code) === figures) continue;
      this.lastFigures.delete(row.product_code);
      this.lastFigures.set(row.product_code, figures);
      if (this.lastFigures.size > REMEMBERED) this.lastFigures.delete(this.lastFigures.keys().next().value!);
      this.options.bus.publish('inventoryChanged', toInventory(row));
    }
  }
}

function remember(set: Set<string>, id: string): void {
  set.add(id);
  if (set.size > REMEMBERED) set.delete(set.values().next().value!);
}

function toAlert(row: AlertRow): StockAlertEvent {
  return {
    id: row.id,
    kind: row.kind,
    productCode: row.product_code,
    available: row.available,
    threshold: row.threshold,
    message: row.message,
    channelsClosed: row.channels_closed,
    channelsReopened: row.channels_reopened,
    channelCode: row.channel_code,
    bucketStart: row.bucket_start,
    expectedOrders: row.expected_orders,
    actualOrders: row.actual_orders,
    orderId: row.order_id,
    createdAt: row.created_at,
  };
}

function toInventory(row: InventoryRow): InventoryEvent {
  return {
    productCode: row.product_code,
    onHand: row.on_hand,
    reserved: row.reserved,
    available: Math.max(0, row.on_hand - row.reserved),
    safetyStock: row.safety_stock,
    updatedAt: row.updated_at,
  };
}
