import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A platform's order and after-sale lists as the connectors' `pull` and `refundPull` speak them (paths, cursor
 * parameter, envelopes), on a real HTTP server on 127.0.0.1. These calls carry no signature or token: the pull
 * protocols send none (connectors/payload.ts getPage), so the fake checks the method, the path and that no
 * parameter but the expected ones is sent. Unlike test/support/fake-platforms.ts (the signed stock calls), it
 * keeps no state but the lists the test fills.
 */

export type PulledPlatform = 'TAOBAO' | 'JD' | 'PINDUODUO' | 'DOUYIN' | 'YOUZAN' | 'SHOPIFY';

/** A JSON value written as these exact characters: an id beyond 2^53 as a platform sends it, a bare number. */
export const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;

/**
 * A file under test/fixtures as the platform would send it again: an integer beyond 2^53 stays a bare number of
 * exactly those digits (rawJson), which plain JSON.parse and JSON.stringify would change.
 */
export function asSent(path: string): any {
  const text = readFileSync(new URL(`../fixtures/${path}`, import.meta.url), 'utf8');
  return JSON.parse(text, (_key, value: unknown, context?: { source?: string }) =>
    typeof value === 'number' && !Number.isSafeInteger(value) && Number.isInteger(value)
      ? rawJson(context!.source!)
      : value,
  );
}

interface ListFormat {
  path: string;
  /** The cursor's parameter: how many items were handed out before, absent from the beginning. */
  param: string;
  page(items: unknown[], next: string | null): unknown;
}

// Shopify's two lists are the one orders list, read as updated_at pages (see shopifyPage).
const ORDER_LISTS: Record<Exclude<PulledPlatform, 'SHOPIFY'>, ListFormat> = {
  TAOBAO: {
    path: '/trades',
    param: 'modified_after',
    page: (trades, next) => ({
      trades_sold_increment_get_response: {
        ...(trades.length ? { trades: { trade: trades } } : {}),
        next_cursor: next,
      },
    }),
  },
  JD: {
    path: '/pop/order/search',
    param: 'updated_after',
    page: (orders, next) => ({
      jingdong_pop_order_search_responce: {
        searchorderinfo_result: { orderInfoList: orders, nextCursor: next },
      },
    }),
  },
  PINDUODUO: {
    path: '/order/increment',
    param: 'updated_after',
    page: (orders, next) => ({
      order_sn_increment_get_response: { order_sn_list: orders, next_cursor: next },
    }),
  },
  DOUYIN: {
    path: '/order/searchList',
    param: 'cursor',
    page: (orders, next) => ({ code: 10000, data: { shop_order_list: orders, next_cursor: next } }),
  },
  YOUZAN: {
    path: '/trades/sold',
    param: 'update_time_start',
    page: (orders, next) => ({ success: true, data: { full_order_info_list: orders, next_cursor: next } }),
  },
};

const REFUND_LISTS: Record<Exclude<PulledPlatform, 'SHOPIFY'>, ListFormat> = {
  TAOBAO: {
    path: '/refunds/receive',
    param: 'modified_after',
    // Like every TOP reply, it leaves `refunds` out when there are none.
    page: (refunds, next) => ({
      refunds_receive_get_response: {
        ...(refunds.length ? { refunds: { refund: refunds } } : {}),
        next_cursor: next,
        total_results: refunds.length,
      },
    }),
  },
  JD: {
    path: '/asc/service/list',
    param: 'updated_after',
    page: (services, next) => ({
      jingdong_asc_query_list_responce: { pageResult: { data: services, nextCursor: next } },
    }),
  },
  PINDUODUO: {
    path: '/refund/increment',
    param: 'updated_after',
    page: (refunds, next) => ({ refund_increment_get_response: { refund_list: refunds, next_cursor: next } }),
  },
  DOUYIN: {
    path: '/afterSale/List',
    param: 'cursor',
    page: (items, next) => ({ code: 10000, data: { items, next_cursor: next } }),
  },
  YOUZAN: {
    path: '/trade/refund/search',
    param: 'update_time_start',
    page: (refunds, next) => ({ success: true, data: { refunds, next_cursor: next } }),
  },
};

const SHOPIFY_ORDERS = '/admin/api/2025-01/orders.json';
const SHOPIFY_LIMIT = 250;

export interface FakePullApi {
  /** The channel's apiBaseUrl: a path prefix, as a real API gateway has. */
  readonly baseUrl: string;
  /** Path (under the base) and query of every request, in order. */
  readonly requests: string[];
  /** The platform's orders in the order they changed; push to add one. Shopify's carry their `refunds`. */
  readonly orders: unknown[];
  /** Its after-sale records in the order they changed (not Shopify's: those are in their orders). */
  readonly refunds: unknown[];
  /** While true the after-sale list answers 503, as a platform that is down; the order list still answers. */
  refundsDown: boolean;
  close(): Promise<void>;
}

class Refusal {
  constructor(
    readonly status: number,
    readonly error: string,
  ) {}
}

function expectOnly(query: URLSearchParams, names: string[]): void {
  for (const name of query.keys())
    if (!names.includes(name)) throw new Refusal(400, `unexpected parameter ${name}`);
}

/** An increment list: the cursor is how many items were handed out; an empty page has none ("no more now"). */
function listPage(format: ListFormat, items: unknown[], query: URLSearchParams, pageSize: number): unknown {
  expectOnly(query, [format.param]);
  const text = query.get(format.param) ?? '0';
  if (!/^\d+$/.test(text)) throw new Refusal(400, `bad cursor ${text}`);
  const after = Number(text);
  const page = items.slice(after, after + pageSize);
  return format.page(page, page.length ? String(after + page.length) : null);
}

const updatedAtOf = (order: unknown) => Date.parse((order as { updated_at: string }).updated_at);

/** Shopify's orders list: by updated_at ascending from updated_at_min (inclusive), at most `limit`, with `fields`. */
function shopifyPage(orders: unknown[], query: URLSearchParams): unknown {
  expectOnly(query, ['status', 'order', 'limit', 'fields', 'updated_at_min']);
  if (query.get('status') !== 'any' || query.get('order') !== 'updated_at asc')
    throw new Refusal(400, 'status=any&order=updated_at asc expected');
  const limit = Number(query.get('limit') ?? 50);
  if (!Number.isInteger(limit) || limit < 1 || limit > SHOPIFY_LIMIT) throw new Refusal(400, 'bad limit');
  const min = query.get('updated_at_min');
  const from = min === null ? -Infinity : Date.parse(min);
  if (Number.isNaN(from)) throw new Refusal(400, `bad updated_at_min ${min}`);
  const fields = query.get('fields')?.split(',');
  const page = orders
    .filter((order) => updatedAtOf(order) >= from)
    .sort((a, b) => updatedAtOf(a) - updatedAtOf(b))
    .slice(0, limit)
    .map((order) =>
      fields
        ? Object.fromEntries(fields.map((name) => [name, (order as Record<string, unknown>)[name]]))
        : order,
    );
  return { orders: page };
}

export async function startPullApi(
  platform: PulledPlatform,
  options: { pageSize?: number } = {},
): Promise<FakePullApi> {
  const pageSize = options.pageSize ?? 2;
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname.replace(/^\/api/, '');
    api.requests.push(path + url.search);
    let body: unknown;
    let status = 200;
    try {
      if (req.method !== 'GET') throw new Refusal(405, 'GET only');
      if (platform === 'SHOPIFY') {
        if (path !== SHOPIFY_ORDERS) throw new Refusal(404, 'no such path');
        if (url.searchParams.get('fields')?.includes('refunds') && api.refundsDown)
          throw new Refusal(503, 'down');
        body = shopifyPage(api.orders, url.searchParams);
      } else if (path === ORDER_LISTS[platform].path) {
        body = listPage(ORDER_LISTS[platform], api.orders, url.searchParams, pageSize);
      } else if (path === REFUND_LISTS[platform].path) {
        if (api.refundsDown) throw new Refusal(503, 'down');
        body = listPage(REFUND_LISTS[platform], api.refunds, url.searchParams, pageSize);
      } else {
        throw new Refusal(404, 'no such path');
      }
    } catch (err) {
      if (!(err instanceof Refusal)) throw err;
      status = err.status;
      body = { error: err.error };
    }
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const api: FakePullApi = {
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`,
    requests: [],
    orders: [],
    refunds: [],
    refundsDown: false,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  return api;
}
