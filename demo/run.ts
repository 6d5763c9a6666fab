import { createHmac } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  CHANNELS,
  HOT_PRODUCT,
  MINUTES_PER_DAY,
  PRODUCTS,
  SCENE,
  clock,
  planDay,
  pushesUnpaid,
  usualOrders,
  type DayPlan,
  type PlannedOrder,
} from './day-plan.js';
import { DemoError, HubClient, HubUnreachable } from './hub-client.js';
import { signedCarrierEvent, signedPush, type DemoOrder } from './platforms.js';
import type { DemoSettings } from './settings.js';

export interface ChannelFigures {
  orders: number;
  liveStream: number;
  paid: number;
  packed: number;
  shipped: number;
  delivered: number;
}

export interface SeenAlert {
  id: string;
  kind: string;
  productCode: string;
  channelCode: string | null;
  channelsClosed: string[];
  channelsReopened: string[];
  message: string;
}

export interface DemoSummary {
  channels: Record<string, ChannelFigures>;
  /** Orders the hub took per channel in each simulated hour. */
  perHour: Record<string, number[]>;
  /** Unpaid orders whose holds ran out (marketplaces keep them open; their platform decides). */
  holdsExpired: number;
  /** Storefront orders the hub cancelled for payment timeout. */
  paymentTimeouts: number;
  /** Unpaid orders whose holds were still held when the demo ended. */
  holdsStillHeld: number;
  alerts: SeenAlert[];
  errorCount: number;
  /** The first few failures, as the hub answered them. */
  errors: string[];
  /** Stopped before the day was over: Ctrl-C, or the hub stopped answering (`hubLost`). */
  interrupted: boolean;
  hubLost: boolean;
}

export interface DemoIo {
  /** Where the progress and the summary go, a line at a time. */
  out: (line: string) => void;
  /** Aborted (Ctrl-C): no new work is started, requests under way finish, the summary is printed. */
  signal: AbortSignal;
}

/** Orders queued ahead of the hub, at most, per allowed concurrent request: the clock waits for a slow hub. */
const QUEUE_PER_SLOT = 8;
const KEPT_ERRORS = 10;
/** How often the demo looks at unpaid orders' holds while it waits for them to run out. */
const HOLD_POLL_MS = 1000;

/** A channel's webhook secret, derived from the key: the demo knows it on every run, nobody without the key does. */
export const webhookSecretFor = (key: string, channelCode: string) =>
  createHmac('sha256', key).update(`order-hub demo webhook ${channelCode}`).digest('hex');

interface OrderState {
  planned: PlannedOrder;
  order: DemoOrder;
  hubId: string | null;
  /** What the warehouse ships: the order, or the sub-orders the hub split it into (one per parcel). */
  parcels: { id: string; trackingNumber: string | null }[];
  /** Each step of an order waits for the one before it. */
  chain: Promise<void>;
}

/** Drives the hub through the planned day; resolves with what happened once it is over (or interrupted). */
export async function runDemo(settings: DemoSettings, io: DemoIo): Promise<DemoSummary> {
  const { out } = io;
  // The day stops on Ctrl-C, or when the hub stops answering.
  const lost = new AbortController();
  const signal = AbortSignal.any([io.signal, lost.signal]);
  const hub = new HubClient(settings);
  const plan = planDay(settings.orders, settings.seed);
  const msPerMinute = (settings.minutes * 60_000) / MINUTES_PER_DAY;

  out(
    `Order hub demo against ${hub.base}: one day in ${settings.minutes} min, ${plan.orders.length} orders.`,
  );
  await setUp(hub, settings, plan, out);

  const summary: DemoSummary = {
    channels: Object.fromEntries(
      CHANNELS.map((c) => [
        c.code,
        { orders: 0, liveStream: 0, paid: 0, packed: 0, shipped: 0, delivered: 0 },
      ]),
    ),
    perHour: Object.fromEntries(CHANNELS.map((c) => [c.code, Array<number>(24).fill(0)])),
    holdsExpired: 0,
    paymentTimeouts: 0,
    holdsStillHeld: 0,
    alerts: [],
    errorCount: 0,
    errors: [],
    interrupted: false,
    hubLost: false,
  };
  const fail = (what: string, err: unknown) => {
    if (err instanceof HubUnreachable && !lost.signal.aborted) {
      out(err.message);
      lost.abort();
    }
    summary.errorCount++;
    const message = `${what}: ${err instanceof Error ? err.message : String(err)}`;
    if (summary.errors.length < KEPT_ERRORS) summary.errors.push(message);
  };

  const startedAt = new Date();
  // Order numbers unique to this run (all digits, as most platforms' are), so a second run makes new orders.
  const runTag = String(Math.floor(startedAt.getTime() / 1000) % 1_000_000).padStart(6, '0');
  const carrierCode = settings.carrier?.code ?? 'sf';
  const secrets = new Map(CHANNELS.map((c) => [c.code, webhookSecretFor(settings.key, c.code)]));

  const agenda = Array.from({ length: MINUTES_PER_DAY }, () => [] as (() => Promise<void>)[]);
  const at = (minute: number, action: () => Promise<void>) => agenda[minute].push(action);

  const push = async (state: OrderState) => {
    const { channel } = state.planned;
    const { body, headers } = signedPush(channel.platform, state.order, secrets.get(channel.code)!);
    const reply = await hub.webhook(`/webhooks/${channel.code}`, body, headers);
    if (reply.status !== 200) throw new DemoError(`HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    return String(reply.body.orderId);
  };
  /** Chains `action` after the order's previous step; skipped when the order never reached the hub. */
  const step = (state: OrderState, what: string, action: () => Promise<void>) => async () => {
    state.chain = state.chain.then(async () => {
      if (signal.aborted || (state.hubId === null && what !== 'place')) return;
      try {
        await action();
      } catch (err) {
        fail(`${state.planned.channel.code} order ${state.order.externalId} ${what}`, err);
      }
    });
    await state.chain;
  };

  /** A carrier's scan, through its signed webhook (or, with no carrier secret, recordShipmentEvent). */
  const trackingEvent = async (trackingNumber: string, status: keyof typeof DESCRIPTIONS) => {
    const event = { trackingNumber, status, description: DESCRIPTIONS[status], occurredAt: new Date() };
    if (settings.carrier) {
      const { body, headers } = signedCarrierEvent(settings.carrier.secret, event);
      const reply = await hub.webhook(`/webhooks/carriers/${carrierCode}`, body, headers);
      if (reply.status !== 200) throw new DemoError(`HTTP ${reply.status} ${JSON.stringify(reply.body)}`);
    } else {
      await hub.gql(
        `mutation($tn: String!, $status: ShipmentStatus!, $description: String, $at: DateTime) {
          recordShipmentEvent(trackingNumber: $tn, status: $status, description: $description, occurredAt: $at) { status }
        }`,
        { tn: trackingNumber, status, description: event.description, at: event.occurredAt },
      );
    }
  };

  const states: OrderState[] = plan.orders.map((planned) => ({
    planned,
    order: {
      externalId: `${runTag}${String(planned.seq).padStart(7, '0')}`,
      customerName: planned.customer.name,
      phone: planned.customer.phone,
      province: planned.customer.province,
      city: planned.customer.city,
      district: planned.customer.district,
      street: planned.customer.street,
      lines: planned.lines,
      placedAt: startedAt,
      paidAt: null,
    },
    hubId: null,
    parcels: [],
    chain: Promise.resolve(),
  }));

  for (const state of states) {
    const { planned, order } = state;
    const figures = summary.channels[planned.channel.code];
    const paidOnArrival = !pushesUnpaid(planned.channel.platform);
    at(
      planned.minute,
      step(state, 'place', async () => {
        order.placedAt = new Date();
        if (paidOnArrival) order.paidAt = order.placedAt;
        state.hubId = await push(state);
        figures.orders++;
        if (planned.live) figures.liveStream++;
        summary.perHour[planned.channel.code][Math.floor(planned.minute / 60)]++;
        if (paidOnArrival) figures.paid++;
      }),
    );
    if (planned.paidAt !== null && !paidOnArrival) {
      at(
        planned.paidAt,
        step(state, 'payment', async () => {
          order.paidAt = new Date();
          await push(state);
          figures.paid++;
        }),
      );
    }
    if (planned.packedAt !== null) {
      at(
        planned.packedAt,
        step(state, 'markPacked', async () => {
          // The hub may have split the order at ingestion (cold-chain goods to a remote province): its parcels
          // are packed and shipped, each on its own.
          const { order: stored } = await hub.gql<{ order: { children: { id: string }[] } }>(
            `query($id: ID!) { order(id: $id) { children { id } } }`,
            { id: state.hubId },
          );
          const ids = stored.children.length ? stored.children.map((child) => child.id) : [state.hubId!];
          state.parcels = ids.map((id) => ({ id, trackingNumber: null }));
          for (const parcel of state.parcels)
            await hub.gql(`mutation($id: ID!) { markPacked(orderId: $id) { status } }`, { id: parcel.id });
          figures.packed++;
        }),
      );
    }
    if (planned.shippedAt !== null) {
      at(
        planned.shippedAt,
        step(state, 'shipOrder', async () => {
          for (const [index, parcel] of state.parcels.entries()) {
            const trackingNumber = `${carrierCode.toUpperCase()}${order.externalId}${index || ''}`;
            await hub.gql(
              `mutation($id: ID!, $carrier: String!, $tn: String!) {
                shipOrder(orderId: $id, carrier: $carrier, trackingNumber: $tn) { status }
              }`,
              { id: parcel.id, carrier: carrierCode.toUpperCase(), tn: trackingNumber },
            );
            parcel.trackingNumber = trackingNumber;
          }
          figures.shipped++;
        }),
      );
    }
    for (const scan of planned.tracking) {
      at(
        scan.at,
        step(state, `carrier ${scan.status}`, async () => {
          const shipped = state.parcels.filter((parcel) => parcel.trackingNumber !== null);
          if (shipped.length === 0) return;
          for (const parcel of shipped) await trackingEvent(parcel.trackingNumber!, scan.status);
          if (scan.status === 'DELIVERED') figures.delivered++;
        }),
      );
    }
  }

  const { liveStream, silence } = SCENE;
  at(liveStream.from, async () =>
    out(
      `${clock(liveStream.from)}  ${liveStream.channel} starts a live stream: ${liveStream.multiplier}× the orders ` +
        `for ${liveStream.to - liveStream.from} min, all ${HOT_PRODUCT}`,
    ),
  );
  at(liveStream.to, async () => out(`${clock(liveStream.to)}  the live stream ends`));
  at(silence.from, async () =>
    out(`${clock(silence.from)}  ${silence.channel} goes silent: its pushes stop until ${clock(silence.to)}`),
  );
  /** A moment of the day's story; a failure is counted, never thrown into the clock's loop. */
  const scene = (minute: number, what: string, action: () => Promise<void>) =>
    at(minute, () => action().catch((err: unknown) => fail(what, err)));
  scene(silence.to, 'lastOrderAt', async () => {
    // What an operator sees of the outage: the channel's last order, hours of the day ago.
    const { channel } = await hub.gql<{ channel: { lastOrderAt: string | null } }>(
      `query($code: String!) { channel(code: $code) { lastOrderAt } }`,
      { code: silence.channel },
    );
    out(
      `${clock(silence.to)}  ${silence.channel} sends orders again; the hub's lastOrderAt for it was ` +
        `${channel.lastOrderAt ?? 'never'}, ${(silence.to - silence.from) / 60} simulated hours ago`,
    );
  });
  scene(SCENE.restockAt, 'restock', () => restock(hub, plan, out));

  if (!settings.carrier)
    out(
      'No carrier secret (--carrier or CARRIER_WEBHOOK_SECRETS): tracking events go through recordShipmentEvent.',
    );

  const seenAlerts = new Set<string>();
  const pollAlerts = async () => {
    const { stockAlerts } = await hub.gql<{ stockAlerts: (SeenAlert & { createdAt: string })[] }>(
      `query($since: DateTime) {
        stockAlerts(since: $since) {
          id kind productCode channelCode channelsClosed channelsReopened message createdAt
        }
      }`,
      { since: startedAt.toISOString() },
    );
    const fresh = stockAlerts
      .filter((alert) => !seenAlerts.has(alert.id))
      .sort((a, b) => Date.parse(a.createdAt) - Date.parse(b.createdAt));
    const shortOrders = new Map<string, number>();
    for (const { createdAt: _createdAt, ...alert } of fresh) {
      seenAlerts.add(alert.id);
      summary.alerts.push(alert);
      // One OUT_OF_STOCK per order short of a product: counted per product, not printed one by one.
      if (alert.kind === 'OUT_OF_STOCK' && alert.message.startsWith('Order '))
        shortOrders.set(alert.productCode, (shortOrders.get(alert.productCode) ?? 0) + 1);
      else out(`        alert ${alert.kind}: ${alert.message}`);
    }
    for (const [productCode, count] of shortOrders)
      out(
        `        alert OUT_OF_STOCK: ${count} orders stored short of "${productCode}" (marketplace sales stand)`,
      );
  };

  const inFlight = new Set<Promise<void>>();
  const startMs = Date.now();
  for (let minute = 0; minute < MINUTES_PER_DAY && !signal.aborted; minute++) {
    const wait = startMs + minute * msPerMinute - Date.now();
    if (wait > 0) await sleep(wait, undefined, { signal }).catch(() => undefined);
    while (!signal.aborted && inFlight.size > settings.concurrency * QUEUE_PER_SLOT)
      await Promise.race(inFlight);
    if (signal.aborted) break;
    for (const action of agenda[minute]) {
      const running = action().finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    if (minute % 60 === 59) {
      // Each simulated hour ends when its requests have been answered, so its line counts all of them.
      await Promise.all(inFlight);
      out(hourLine(minute, summary, settings.orders));
      await pollAlerts().catch((err: unknown) => fail('stockAlerts', err));
    }
  }
  summary.interrupted = signal.aborted;
  summary.hubLost = lost.signal.aborted;
  const late = Date.now() - startMs - MINUTES_PER_DAY * msPerMinute;
  if (late > 1000)
    out(`The day ended ${Math.round(late / 1000)} s late: the hub took longer than the clock allowed.`);
  if (summary.interrupted && !summary.hubLost) out('Interrupted: letting the requests under way finish.');
  await Promise.all(inFlight);

  if (!summary.interrupted) await waitForHolds(hub, settings, startedAt, signal, out);
  if (!summary.hubLost) {
    await countTimeouts(hub, startedAt, states, summary).catch((err: unknown) => fail('unpaid orders', err));
    await pollAlerts().catch((err: unknown) => fail('stockAlerts', err));
  }
  for (const line of summaryLines(summary)) out(line);
  return summary;
}

const DESCRIPTIONS = {
  PICKED_UP: '快递员已揽收',
  IN_TRANSIT: '运输中，已到达转运中心',
  OUT_FOR_DELIVERY: '派送中，请保持电话畅通',
  DELIVERED: '已签收，感谢使用',
} as const;

/** Channels, products, stock and safety stock, through the public API; run again, it finds them there. */
async function setUp(hub: HubClient, settings: DemoSettings, plan: DayPlan, out: (line: string) => void) {
  for (const channel of CHANNELS) {
    await hub.gql(`mutation($input: ChannelInput!) { upsertChannel(input: $input) { id } }`, {
      input: {
        code: channel.code,
        platform: channel.platform,
        name: channel.name,
        isCore: channel.isCore,
        webhookSecret: webhookSecretFor(settings.key, channel.code),
      },
    });
  }
  const { safetyStock, available } = hotStock(plan);
  for (const product of PRODUCTS) {
    await hub.gql(`mutation($input: ProductInput!) { upsertProduct(input: $input) { id } }`, {
      input: { productCode: product.productCode, name: product.name, coldChain: product.coldChain },
    });
    const hot = product.productCode === HOT_PRODUCT;
    // The hot product gets just enough for the live stream to sell it out; the others more than a day needs.
    await setAvailable(
      hub,
      product.productCode,
      hot ? available : settings.orders * 2,
      'demo: stock for the day',
    );
    await hub.gql(
      `mutation($code: String!, $safety: Int!) { setSafetyStock(productCode: $code, safetyStock: $safety) { safetyStock } }`,
      { code: product.productCode, safety: hot ? safetyStock : 10 },
    );
  }
  const core = CHANNELS.filter((c) => c.isCore).map((c) => c.code);
  out(
    `Set up ${CHANNELS.length} channels (core: ${core.join(', ')}) and ${PRODUCTS.length} products; ` +
      `${HOT_PRODUCT}: ${available} available, safety stock ${safetyStock}.`,
  );
}

/** The hot product's stock: the live stream takes it below its safety stock, then to nothing. */
export function hotStock(plan: DayPlan) {
  const safetyStock = Math.max(2, Math.round(plan.liveStreamUnits * 0.3));
  return { safetyStock, available: plan.hotUnitsBeforeLive + Math.round(plan.liveStreamUnits * 0.6) };
}

async function setAvailable(hub: HubClient, productCode: string, target: number, reason: string) {
  const { inventory } = await hub.gql<{ inventory: { available: number } }>(
    `query($code: String!) { inventory(productCode: $code) { available } }`,
    { code: productCode },
  );
  const delta = target - inventory.available;
  if (delta === 0) return;
  await hub.gql(
    `mutation($code: String!, $delta: Int!, $reason: String!) {
      adjustStock(productCode: $code, delta: $delta, reason: $reason) { available }
    }`,
    { code: productCode, delta, reason },
  );
}

/** The evening delivery of the hot product: well above its safety stock, so the closed channels reopen. */
async function restock(hub: HubClient, plan: DayPlan, out: (line: string) => void) {
  const { safetyStock } = hotStock(plan);
  const target = safetyStock + plan.liveStreamUnits * 3 + 20;
  await setAvailable(hub, HOT_PRODUCT, target, 'demo: evening delivery from the warehouse');
  out(`${clock(SCENE.restockAt)}  restock: ${HOT_PRODUCT} back to ${target} available`);
}

function hourLine(minute: number, summary: DemoSummary, ordersPerDay: number): string {
  const hour = Math.floor(minute / 60);
  const { silence } = SCENE;
  const silent = (code: string) =>
    code === silence.channel && hour * 60 >= silence.from && hour * 60 < silence.to;
  // A silent channel's hour beside what a normal day brings then: the gap a VOLUME_ANOMALY alert reports.
  const perChannel = CHANNELS.map(
    (c) =>
      `${c.short} ${summary.perHour[c.code][hour]}` +
      (silent(c.code) ? ` (silent, ~${Math.round(usualOrders(ordersPerDay, c, hour))} usual)` : ''),
  ).join(' ');
  const inHour = CHANNELS.reduce((sum, c) => sum + summary.perHour[c.code][hour], 0);
  const total = (field: keyof ChannelFigures) =>
    Object.values(summary.channels).reduce((sum, figures) => sum + figures[field], 0);
  return (
    `${clock(hour * 60)}-${clock(hour * 60 + 60)}  ${String(inHour).padStart(4)} orders (${perChannel})  ` +
    `day: ${total('orders')} orders, ${total('paid')} paid, ${total('shipped')} shipped, ${total('delivered')} delivered`
  );
}

interface UnpaidOrder {
  id: string;
  status: string;
  channel: { code: string };
  reservations: { status: string; expiresAt: string }[];
}

/** The run's orders still PENDING_PAYMENT or CANCELLED, with their holds. */
async function unpaidOrders(hub: HubClient, startedAt: Date): Promise<UnpaidOrder[]> {
  const found: UnpaidOrder[] = [];
  let after: string | null = null;
  for (;;) {
    const page: {
      orders: {
        edges: { node: UnpaidOrder }[];
        pageInfo: { hasNextPage: boolean; endCursor: string | null };
      };
    } = await hub.gql(
      `query($filter: OrderFilter, $after: String) {
        orders(first: 200, after: $after, filter: $filter) {
          edges { node { id status channel { code } reservations(first: 5) { status expiresAt } } }
          pageInfo { hasNextPage endCursor }
        }
      }`,
      {
        after,
        filter: {
          channelCodes: CHANNELS.map((c) => c.code),
          statuses: ['PENDING_PAYMENT', 'CANCELLED'],
          placedFrom: startedAt.toISOString(),
        },
      },
    );
    found.push(...page.orders.edges.map((edge) => edge.node));
    if (!page.orders.pageInfo.hasNextPage) return found;
    after = page.orders.pageInfo.endCursor;
  }
}

/** Waits (at most --hold-wait) for the holds of orders never paid to run out, so the timeouts show. */
async function waitForHolds(
  hub: HubClient,
  settings: DemoSettings,
  startedAt: Date,
  signal: AbortSignal,
  out: (line: string) => void,
) {
  const deadline = Date.now() + settings.holdWaitSeconds * 1000;
  let told = false;
  while (!signal.aborted) {
    const held = (await unpaidOrders(hub, startedAt)).flatMap((order) =>
      order.reservations.filter((r) => r.status === 'HELD'),
    );
    if (held.length === 0) return;
    const lastExpiry = Math.max(...held.map((r) => Date.parse(r.expiresAt)));
    if (lastExpiry > deadline) {
      out(
        `${held.length} holds of unpaid orders run out at ${new Date(lastExpiry).toISOString()}, after the demo: ` +
          'start the hub with RESERVATION_TTL_SECONDS=30 to see payment timeouts within the day.',
      );
      return;
    }
    if (!told) out(`Waiting for ${held.length} holds of unpaid orders to run out…`);
    told = true;
    if (Date.now() > deadline) return;
    await sleep(HOLD_POLL_MS, undefined, { signal }).catch(() => undefined);
  }
}

async function countTimeouts(hub: HubClient, startedAt: Date, states: OrderState[], summary: DemoSummary) {
  const neverPaid = new Set(states.filter((s) => s.hubId && !s.order.paidAt).map((s) => s.hubId));
  for (const order of await unpaidOrders(hub, startedAt)) {
    if (!neverPaid.has(order.id)) continue;
    if (order.reservations.some((r) => r.status === 'EXPIRED')) summary.holdsExpired++;
    if (order.reservations.some((r) => r.status === 'HELD')) summary.holdsStillHeld++;
    if (order.status === 'CANCELLED') summary.paymentTimeouts++;
  }
}

function summaryLines(summary: DemoSummary): string[] {
  const rows = CHANNELS.map((c) => {
    const f = summary.channels[c.code];
    const cells = [f.orders, f.liveStream, f.paid, f.packed, f.shipped, f.delivered].map((n) =>
      String(n).padStart(10),
    );
    return `${c.code.padEnd(16)}${cells.join('')}${c.isCore ? '  core' : ''}`;
  });
  const alertsByKind = new Map<string, number>();
  for (const alert of summary.alerts) alertsByKind.set(alert.kind, (alertsByKind.get(alert.kind) ?? 0) + 1);
  const closures = summary.alerts
    .filter((a) => a.channelsClosed.length > 0 || a.channelsReopened.length > 0)
    .map((a) =>
      a.channelsClosed.length
        ? `  ${a.productCode} closed on ${a.channelsClosed.join(', ')}`
        : `  ${a.productCode} reopened on ${a.channelsReopened.join(', ')}`,
    );
  return [
    '',
    summary.interrupted ? 'Summary (interrupted):' : 'Summary of the day:',
    `${'channel'.padEnd(16)}${['orders', 'live', 'paid', 'packed', 'shipped', 'delivered'].map((h) => h.padStart(10)).join('')}`,
    ...rows,
    `payment timeouts: ${summary.paymentTimeouts} storefront orders cancelled, ${summary.holdsExpired} holds expired` +
      (summary.holdsStillHeld ? `, ${summary.holdsStillHeld} still held` : ''),
    `alerts: ${[...alertsByKind].map(([kind, n]) => `${kind} ${n}`).join(', ') || 'none'}`,
    ...closures,
    ...(summary.errorCount
      ? [`errors: ${summary.errorCount}`, ...summary.errors.map((e) => `  ${e}`)]
      : ['errors: none']),
  ];
}
