import './style.css';
import type { Client } from 'graphql-ws';
import { gql, HubRequestError, liveClient, subscribe } from './api.js';
import { byId, fill, h } from './dom.js';
import { FlowChart, FlowModel } from './flow.js';
import { formatCount, formatDuration, formatTime, timeZone } from './format.js';
import { renderOrder, showOrderMessage, type OrderView } from './order-view.js';
import * as Q from './queries.js';

interface OrderEvent {
  seq: string;
  orderId: string;
  channelCode: string;
  type: string;
  fromStatus: string | null;
  toStatus: string | null;
  at: string;
}

interface Alert {
  id: string;
  kind: string;
  message: string;
  productCode: string;
  channelCode: string | null;
  available: number;
  createdAt: string;
}

interface Channel {
  code: string;
  name: string;
  platform: string;
  isCore: boolean;
  health: string;
  lastHeartbeatAt: string | null;
  lastOrderAt: string | null;
  salesOpen: boolean;
}

interface StatusRow {
  key: string;
  orders: number;
}

interface Stage {
  stage: string;
  orders: number;
  p50Seconds: number;
  p90Seconds: number;
}

interface Stuck {
  id: string;
  externalId: string;
  status: string;
  statusSince: string;
  channel: { code: string };
}

interface LowStock {
  productCode: string;
  available: number;
  safetyStock: number;
  onHand: number;
  reserved: number;
}

interface Listing {
  channel: { code: string };
  state: string;
  confirmed: number | null;
  target: number;
  lastError: string | null;
}

interface Snapshot {
  orderFlow: { bucketStart: string; channelCode: string; orders: number }[];
  salesReport: StatusRow[];
  volumeAnomalies: { channelCode: string }[];
  stockAlerts: Alert[];
  channels: Channel[];
  fulfillmentReport: Stage[];
  stuckOrders: Stuck[];
  lowStock: LowStock[];
}

/** What the tests and the benchmark read: events received, frames that re-rendered, and the state. */
interface BoardCounters {
  events: number;
  renders: number;
  live: boolean;
  loaded: boolean;
}

declare global {
  interface Window {
    __board: BoardCounters;
  }
}

const KEY_STORAGE = 'order-hub-board:key';
const STATUSES = ['PENDING_PAYMENT', 'PAID', 'PACKED', 'SHIPPED', 'DELIVERED', 'CANCELLED', 'REFUNDED'];
const ALERTS_SHOWN = 30;
const DAY = 24 * 3600_000;
/** Snapshot queries follow the events at most this often, whatever the rate of orders. */
const REFETCH_MS = 2000;
const CHANNEL_POLL_MS = 10_000;

const counters: BoardCounters = { events: 0, renders: 0, live: false, loaded: false };
window.__board = counters;

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * Runs `fn` at most once per `ms`, and once more after the last call inside a period. A failed run (the hub
 * away, or busy) is tried again a period later, so the panel catches up.
 */
function throttled(fn: () => Promise<void>, ms: number, alive: () => boolean): () => void {
  let last = 0;
  let timer: ReturnType<typeof setTimeout> | null = null;
  const run = () => {
    if (timer) return;
    timer = setTimeout(
      () => {
        timer = null;
        if (!alive()) return;
        last = Date.now();
        fn().catch((err: unknown) => {
          reportProblem(err);
          if (!(err instanceof HubRequestError && err.keyRefused)) run();
        });
      },
      Math.max(0, last + ms - Date.now()),
    );
  };
  return run;
}

function reportProblem(err: unknown): void {
  if (err instanceof HubRequestError && err.keyRefused) {
    stopBoard(
      err.errors.some((e) => e.extensions?.code === 'FORBIDDEN') ? FORBIDDEN_TEXT : UNAUTHENTICATED_TEXT,
    );
    return;
  }
  console.warn('board:', err);
}

const UNAUTHENTICATED_TEXT =
  'The hub did not accept this key (UNAUTHENTICATED). Check it and enter it again.';
const FORBIDDEN_TEXT =
  'This key may not read the board (FORBIDDEN): it needs the OPS, ANALYST or ADMIN role.';

/** One signed-in board: its websocket, subscriptions, timers and the state the panels show. */
class Board {
  private readonly client: Client;
  private readonly stops: (() => void)[] = [];
  private readonly timers: ReturnType<typeof setInterval>[] = [];
  private stopEvents: () => void = () => undefined;
  private lastSeq: bigint | null = null;
  private lastAt: string | null = null;
  private closed = false;

  private readonly flow = new FlowModel();
  private readonly chart = new FlowChart(byId('flow-chart'));
  /** CREATED events that arrived while the flow snapshot loads, applied after it if they are newer. */
  private flowPending: OrderEvent[] | null = [];
  private anomalies = new Set<string>();
  private channels: Channel[] = [];
  private alerts: Alert[] = [];

  private queue: OrderEvent[] = [];
  private alertQueue: Alert[] = [];
  private frame: number | null = null;
  private flowDirty = false;

  private openOrderId: string | null = null;
  private orderStops: (() => void)[] = [];

  private readonly alive = () => !this.closed;
  private readonly refetchCounts = throttled(() => this.loadCounts(), REFETCH_MS, this.alive);
  private readonly refetchStuck = throttled(() => this.loadStuck(), REFETCH_MS, this.alive);
  private readonly refetchStock = throttled(() => this.loadStock(), REFETCH_MS, this.alive);
  private readonly refetchOrder = throttled(() => this.loadOrder(), 250, this.alive);

  constructor(private readonly key: string) {
    this.client = liveClient(key, {
      connected: (again) => {
        if (this.closed) return;
        setConnection('live');
        if (again) void this.catchUp();
      },
      reconnecting: () => {
        if (this.closed) return;
        setConnection('reconnecting');
        // graphql-ws would send the first `after` again: the stream restarts from the last seq seen instead.
        this.stopEvents();
      },
      refused: () => stopBoard(UNAUTHENTICATED_TEXT),
    });
    this.subscribeEvents();
    this.stops.push(
      subscribe<{ stockAlert: Alert }>(this.client, Q.STOCK_ALERTS, {}, ({ stockAlert }) => {
        this.alertQueue.push(stockAlert);
        this.requestFrame();
      }),
      subscribe(this.client, Q.INVENTORY, {}, () => this.refetchStock()),
      subscribe(this.client, Q.LISTINGS, {}, () => this.refetchStock()),
    );
    this.timers.push(
      setInterval(() => this.loadChannels().catch(reportProblem), CHANNEL_POLL_MS),
      // The window slides even when no order comes.
      setInterval(() => {
        this.flowDirty = true;
        this.requestFrame();
      }, 15_000),
    );
    this.bindOrderForm();
    void this.loadAll(Date.now()).then(() => {
      counters.loaded = true;
    });
  }

  close(): void {
    this.closed = true;
    this.stopEvents();
    for (const stop of [...this.stops, ...this.orderStops]) stop();
    for (const timer of this.timers) clearInterval(timer);
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    void this.client.dispose();
  }

  private subscribeEvents(): void {
    const after = this.lastSeq === null ? null : String(this.lastSeq);
    this.stopEvents = subscribe<{ orderStatusChanged: OrderEvent }>(
      this.client,
      Q.ORDER_EVENTS,
      { after },
      ({ orderStatusChanged }) => this.receive(orderStatusChanged),
      (error) => {
        // Ended by the hub (a subscriber that fell behind, say): the stream goes on from the last seq seen.
        console.warn('board: the order events ended', error);
        if (!this.closed) setTimeout(() => this.closed || this.subscribeEvents(), 1000);
      },
    );
  }

  /** After a lost connection: the events since the last seq seen, and every snapshot again. */
  private async catchUp(): Promise<void> {
    this.subscribeEvents();
    // The flow snapshot ends where the events seen end; the replay brings the rest.
    await this.loadAll(this.lastAt ? Date.parse(this.lastAt) + 1 : Date.now());
    if (this.openOrderId) await this.loadOrder();
  }

  private receive(event: OrderEvent): void {
    counters.events++;
    const seq = BigInt(event.seq);
    // A replay may overlap what already came.
    if (this.lastSeq !== null && seq <= this.lastSeq) return;
    this.lastSeq = seq;
    this.lastAt = event.at;
    this.queue.push(event);
    this.requestFrame();
  }

  /** Every event of a frame is applied together, and the panels drawn once. */
  private requestFrame(): void {
    if (this.frame === null) this.frame = requestAnimationFrame(() => this.render());
  }

  private render(): void {
    this.frame = null;
    if (this.closed) return;
    const events = this.queue;
    this.queue = [];
    let statusMoved = false;
    for (const event of events) {
      if (event.type === 'CREATED') {
        if (this.flowPending) this.flowPending.push(event);
        else this.flow.add(event.channelCode, Date.parse(event.at));
        this.flowDirty = true;
      }
      if (event.toStatus) statusMoved = true;
    }
    if (statusMoved) {
      this.refetchCounts();
      this.refetchStuck();
    }
    if (this.alertQueue.length) {
      const fresh = this.alertQueue.reverse();
      this.alertQueue = [];
      for (const alert of fresh)
        if (alert.kind === 'VOLUME_ANOMALY' && alert.channelCode) this.anomalies.add(alert.channelCode);
      this.alerts = [...fresh, ...this.alerts].slice(0, ALERTS_SHOWN);
      this.renderAlerts();
      this.renderChannels();
      this.flowDirty = true;
    }
    if (this.flowDirty) {
      this.flowDirty = false;
      this.renderFlow();
    }
    counters.renders++;
  }

  /** Every panel's snapshot in one request; the flow ends at `flowTo`, where the events take over. */
  private async loadAll(flowTo: number): Promise<void> {
    const now = Date.now();
    this.flowPending ??= [];
    try {
      const data = await gql<Snapshot>(this.key, Q.SNAPSHOT, {
        from: iso(this.flow.window(now)[0]),
        to: iso(flowTo),
        since: iso(now - DAY),
        now: iso(now),
        far: iso(now + DAY),
      });
      this.flow.reset(data.orderFlow);
      for (const a of data.volumeAnomalies) this.anomalies.add(a.channelCode);
      for (const a of data.stockAlerts)
        if (a.kind === 'VOLUME_ANOMALY' && a.channelCode) this.anomalies.add(a.channelCode);
      this.alerts = [...data.stockAlerts]
        .sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt))
        .slice(0, ALERTS_SHOWN);
      this.renderAlerts();
      this.showCounts(data.salesReport);
      this.showChannels(data.channels);
      this.showStages(data.fulfillmentReport);
      this.showStuck(data.stuckOrders);
      await this.showStock(data.lowStock);
    } catch (err) {
      reportProblem(err);
    } finally {
      // Without a snapshot the events still count: the chart is short of history, not of news.
      for (const event of this.flowPending ?? [])
        if (Date.parse(event.at) >= flowTo) this.flow.add(event.channelCode, Date.parse(event.at));
      this.flowPending = null;
      this.flowDirty = true;
      this.requestFrame();
    }
  }

  private async loadCounts(): Promise<void> {
    const data = await gql<{ salesReport: { key: string; orders: number }[] }>(this.key, Q.STATUS_COUNTS, {
      far: iso(Date.now() + DAY),
    });
    this.showCounts(data.salesReport);
  }

  private renderFlow(): void {
    const now = Date.now();
    this.flow.prune(now);
    const window = this.flow.window(now);
    const totals = new Map(
      this.flow.channels().map((c) => [c, this.flow.series(c, window).reduce((a, b) => a + b, 0)]),
    );
    this.chart.render(this.flow, now);
    let total = 0;
    const rows = [...totals].map(([code, orders]) => {
      total += orders;
      const anomaly = this.anomalies.has(code);
      return h(
        'tr',
        { 'data-channel': code, class: anomaly ? 'anomaly' : undefined },
        h(
          'th',
          { scope: 'row' },
          code,
          anomaly && h('span', { class: 'tag', title: 'volume anomaly' }, 'anomaly'),
        ),
        h('td', { class: 'num flow-count', 'data-value': orders }, formatCount(orders)),
      );
    });
    fill(byId('flow-channels'), rows);
    const totalCell = byId('flow-total');
    totalCell.dataset.value = String(total);
    totalCell.textContent = formatCount(total);
  }

  private showCounts(rows: StatusRow[]): void {
    const byStatus = new Map(rows.map((r) => [r.key, r.orders]));
    fill(
      byId('status-counts'),
      STATUSES.map((status) => {
        const orders = byStatus.get(status) ?? 0;
        return h(
          'tr',
          { 'data-status': status },
          h('th', { scope: 'row' }, status),
          h('td', { class: 'num', 'data-value': orders }, formatCount(orders)),
        );
      }),
    );
  }

  private async loadChannels(): Promise<void> {
    this.showChannels((await gql<{ channels: Channel[] }>(this.key, Q.CHANNELS)).channels);
  }

  private showChannels(channels: Channel[]): void {
    this.channels = channels;
    this.renderChannels();
    byId('clock').textContent =
      `Times in ${timeZone} · channels as of ${formatTime(new Date().toISOString())}`;
    const select = byId<HTMLSelectElement>('order-channel');
    const chosen = select.value;
    fill(select, [
      h('option', { value: '' }, '—'),
      ...this.channels.map((c) => h('option', { value: c.code, selected: c.code === chosen }, c.code)),
    ]);
  }

  private renderChannels(): void {
    fill(
      byId('channel-rows'),
      this.channels.map((c) => {
        const anomaly = this.anomalies.has(c.code);
        return h(
          'tr',
          { 'data-channel': c.code, class: anomaly ? 'anomaly' : undefined },
          h(
            'th',
            { scope: 'row', title: `${c.name} · ${c.platform}${c.isCore ? ' · core' : ''}` },
            c.code,
            anomaly && h('span', { class: 'tag', title: 'volume anomaly' }, 'anomaly'),
          ),
          h('td', {}, h('span', { class: `health ${c.health.toLowerCase()}` }, c.health)),
          h('td', {}, formatTime(c.lastHeartbeatAt)),
          h('td', {}, formatTime(c.lastOrderAt)),
          h('td', { class: c.salesOpen ? 'open' : 'closed' }, c.salesOpen ? 'open' : 'closed'),
        );
      }),
    );
  }

  private showStages(stages: Stage[]): void {
    const slowest = stages.reduce<(typeof stages)[number] | null>(
      (worst, s) => (s.orders > 0 && (!worst || s.p50Seconds > worst.p50Seconds) ? s : worst),
      null,
    );
    fill(
      byId('stages'),
      stages.map((s) =>
        h(
          'tr',
          { 'data-stage': s.stage, class: s === slowest ? 'slowest' : undefined },
          h('th', { scope: 'row' }, s.stage, s === slowest && h('span', { class: 'tag' }, 'slowest')),
          h('td', { class: 'num' }, formatCount(s.orders)),
          h('td', { class: 'num' }, s.orders ? formatDuration(s.p50Seconds) : '—'),
          h('td', { class: 'num' }, s.orders ? formatDuration(s.p90Seconds) : '—'),
        ),
      ),
    );
  }

  private async loadStuck(): Promise<void> {
    this.showStuck((await gql<{ stuckOrders: Stuck[] }>(this.key, Q.STUCK)).stuckOrders);
  }

  private showStuck(stuck: Stuck[]): void {
    const now = Date.now();
    fill(
      byId('stuck'),
      stuck.map((o) =>
        h(
          'li',
          { 'data-order': o.id },
          h(
            'button',
            { type: 'button', class: 'link', 'data-open-order': o.id },
            `${o.channel.code} · ${o.externalId}`,
          ),
          h('span', { class: 'status' }, o.status),
          h(
            'span',
            { class: 'num muted' },
            formatDuration(Math.max(0, (now - Date.parse(o.statusSince)) / 1000)),
          ),
        ),
      ),
    );
  }

  private async loadStock(): Promise<void> {
    await this.showStock((await gql<{ lowStock: LowStock[] }>(this.key, Q.LOW_STOCK)).lowStock);
  }

  /** The low-stock products, and the listings of the first few (read in one request). */
  private async showStock(lowStock: LowStock[]): Promise<void> {
    const shown = lowStock.slice(0, Q.LISTED_PRODUCTS);
    const listings = shown.length
      ? await gql<
          Record<string, { productCode: string; closedOnChannels: string[]; channelStock: Listing[] } | null>
        >(
          this.key,
          Q.productListings(shown.length),
          Object.fromEntries(shown.map((p, i) => [`p${i}`, p.productCode])),
        )
      : {};
    fill(
      byId('low-stock'),
      shown.map((item, i) => {
        const product = listings[`p${i}`];
        return h(
          'tr',
          { 'data-product': item.productCode },
          h(
            'th',
            { scope: 'row', title: `on hand ${item.onHand}, reserved ${item.reserved}` },
            item.productCode,
          ),
          h('td', { class: 'num available', 'data-value': item.available }, formatCount(item.available)),
          h('td', { class: 'num' }, formatCount(item.safetyStock)),
          h('td', { class: 'closed-on' }, product?.closedOnChannels.join(', ') || '—'),
          h(
            'td',
            { class: 'listings' },
            ...(product?.channelStock ?? []).map((l) =>
              h(
                'span',
                {
                  class: `listing ${l.state.toLowerCase()}`,
                  title: l.lastError ?? `shows ${l.confirmed ?? '?'} of ${l.target}`,
                },
                `${l.channel.code} ${l.state}`,
              ),
            ),
          ),
        );
      }),
    );
  }

  private renderAlerts(): void {
    fill(
      byId('alerts'),
      this.alerts.map((a) =>
        h(
          'li',
          { 'data-alert': a.id, 'data-kind': a.kind, class: `alert ${a.kind.toLowerCase()}` },
          h('time', { datetime: a.createdAt, class: 'muted' }, formatTime(a.createdAt)),
          h('span', { class: 'kind' }, a.kind),
          h('span', {}, a.message),
        ),
      ),
    );
  }

  private bindOrderForm(): void {
    const form = byId<HTMLFormElement>('order-form');
    form.onsubmit = (e) => {
      e.preventDefault();
      const id = byId<HTMLInputElement>('order-id').value.trim();
      const channelCode = byId<HTMLSelectElement>('order-channel').value;
      const externalId = byId<HTMLInputElement>('order-external').value.trim();
      if (id) this.openOrder({ id });
      else if (channelCode && externalId) this.openOrder({ channelCode, externalId });
      else showOrderMessage('Enter a global id, or a channel and its external id.');
    };
    byId('stuck').onclick = (e) => {
      const id = (e.target as HTMLElement).closest<HTMLElement>('[data-open-order]')?.dataset.openOrder;
      if (id) this.openOrder({ id });
    };
  }

  private lookup: { id: string } | { channelCode: string; externalId: string } | null = null;

  private openOrder(lookup: { id: string } | { channelCode: string; externalId: string }): void {
    this.lookup = lookup;
    for (const stop of this.orderStops) stop();
    this.orderStops = [];
    this.openOrderId = null;
    this.loadOrder().catch(reportProblem);
  }

  private async loadOrder(): Promise<void> {
    const lookup = this.lookup;
    if (!lookup) return;
    const order =
      'id' in lookup
        ? (await gql<{ order: OrderView | null }>(this.key, Q.ORDER_BY_ID, lookup)).order
        : (await gql<{ orderByExternalId: OrderView | null }>(this.key, Q.ORDER_BY_EXTERNAL_ID, lookup))
            .orderByExternalId;
    if (lookup !== this.lookup) return;
    if (!order) {
      showOrderMessage('No such order.');
      return;
    }
    if (this.openOrderId !== order.id) {
      this.openOrderId = order.id;
      // Each of its events or tracking updates reads the order again (at most 4 times a second).
      this.orderStops.push(
        subscribe(this.client, Q.ONE_ORDER_EVENTS, { orderId: order.id }, () => this.refetchOrder()),
        subscribe(this.client, Q.ONE_ORDER_SHIPMENTS, { orderId: order.id }, () => this.refetchOrder()),
      );
    }
    renderOrder(order);
  }
}

let board: Board | null = null;

function setConnection(state: 'idle' | 'live' | 'reconnecting'): void {
  const indicator = byId('connection');
  indicator.dataset.state = state;
  indicator.textContent = { idle: 'not connected', live: 'live', reconnecting: 'reconnecting…' }[state];
  counters.live = state === 'live';
}

function stopBoard(message: string | null): void {
  board?.close();
  board = null;
  counters.loaded = false;
  sessionStorage.removeItem(KEY_STORAGE);
  setConnection('idle');
  byId('board').hidden = true;
  byId('forget-key').hidden = true;
  byId('key-entry').hidden = false;
  byId('key-error').textContent = message ?? '';
  byId<HTMLInputElement>('key-input').focus();
}

async function open(key: string): Promise<void> {
  byId('key-error').textContent = '';
  try {
    await gql(key, Q.CHECK_KEY);
  } catch (err) {
    const refused = err instanceof HubRequestError && err.keyRefused;
    const forbidden = refused && err.errors.some((e) => e.extensions?.code === 'FORBIDDEN');
    stopBoard(
      refused
        ? forbidden
          ? FORBIDDEN_TEXT
          : UNAUTHENTICATED_TEXT
        : `The hub cannot be reached: ${String(err)}`,
    );
    return;
  }
  sessionStorage.setItem(KEY_STORAGE, key);
  byId('key-entry').hidden = true;
  byId('board').hidden = false;
  byId('forget-key').hidden = false;
  board = new Board(key);
}

byId<HTMLFormElement>('key-form').onsubmit = (e) => {
  e.preventDefault();
  const input = byId<HTMLInputElement>('key-input');
  const key = input.value.trim();
  input.value = '';
  if (key) void open(key);
};
byId('forget-key').onclick = () => stopBoard(null);

const stored = sessionStorage.getItem(KEY_STORAGE);
if (stored) void open(stored);
else byId<HTMLInputElement>('key-input').focus();
