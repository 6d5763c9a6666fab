import { inject } from 'vitest';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.js';
import 'reflect-metadata';
import type { AddressInfo } from 'node:net';
import type { MikroORM } from '@mikro-orm/postgresql';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { createHub, type Hub } from '../../server/app.js';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/logger.js';
import { secretBoxFor } from '../../server/secret-key.js';
import { startHubStockSync } from '../../server/stock-sync.js';
import { startHubWebhooks } from '../../server/outbound.js';
import { startHubNotices } from '../../server/notices.js';
import type { NoticeSender, NoticeSenderSettings } from '../../services/notices/sender.js';
import type { WallClock } from '../../services/live-tracking.js';
import type { DelivererSettings, WebhookDeliverer } from '../../services/outbound/deliverer.js';
import type { StockSync, StockSyncSettings } from '../../services/stock-sync/worker.js';
import { migrate, openOrm, type OrmOptions } from '../../server/orm.js';
import { createTestDatabase } from './database.js';
import { TEST_SECRET_KEY } from './hub-process.js';

export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';

export interface GraphQLResponse<T = Record<string, unknown>> {
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
}

export interface IssuedKey {
  secret: string;
  id: string;
}

export interface TestHub {
  url: string;
  wsUrl: string;
  orm: MikroORM;
  hub: Hub;
  /** The stock sync this hub runs (the `stockSync` option); null when it runs none. */
  stockSync: StockSync | null;
  /** The webhook sender this hub runs (the `webhooks` option); null when it runs none. */
  webhooks: WebhookDeliverer | null;
  /** The notice sender this hub runs (the `notices` option); null when it runs none. */
  notices: NoticeSender | null;
  /** The hub's own database; `drop()` takes it away under the running hub. */
  database: { url: string; drop(): Promise<void> };
  /** Sends one GraphQL operation over HTTP; `key` null sends no Authorization header. */
  gql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<GraphQLResponse<T>>;
  /** A new API key, made with the ADMIN key (label `test <role>` unless given). */
  issueApiKey(role: string, options?: { channelCode?: string | null; label?: string }): Promise<IssuedKey>;
  /** The secret of a new API key: `issueApiKey` for when the id is not needed. */
  apiKey(role: string, channelCode?: string | null): Promise<string>;
  /** A graphql-ws client on the same URL, authenticated with `key` (none when null). */
  wsClient(key?: string | null, options?: { onClose?: (code: number, reason: string) => void }): Client;
  close(): Promise<void>;
}

/** A hub on its own fresh database and a free port, migrated, with ADMIN_KEY accepted. */
export async function startTestHub(
  label: string,
  options: {
    ormOverrides?: OrmOptions;
    env?: Record<string, string>;
    /** Collects the hub's log lines (JSON) here instead of discarding them. */
    logLines?: string[];
    /** A database made by the test (on a server of its own) instead of a fresh one on the run's server. */
    database?: { url: string; drop(): Promise<void> };
    /** Rewrites the URL the hub connects with (to go through a proxy). */
    connectVia?: (url: URL) => URL;
    /** Runs the stock sync in this hub too (it pushes to the platforms), with these settings over the config's. */
    stockSync?: Partial<StockSyncSettings>;
    /** Sends outbound webhooks from this hub too, with these settings over the config's. */
    webhooks?: Partial<DelivererSettings>;
    /** Sends customer notices from this hub too, with these settings over the config's. */
    notices?: Partial<NoticeSenderSettings>;
    /** The time live tracking's answers are fresh by (Date when absent). */
    clock?: WallClock;
  } = {},
): Promise<TestHub> {
  const db = options.database ?? (await createTestDatabase(label));
  const connectUrl = options.connectVia ? options.connectVia(new URL(db.url)).toString() : db.url;
  const config = loadConfig({
    DATABASE_URL: connectUrl,
    PORT: '0',
    HOST: '127.0.0.1',
    HUB_ADMIN_KEY: ADMIN_KEY,
    HUB_SECRET_KEY: TEST_SECRET_KEY,
    LOG_LEVEL: options.logLines ? 'info' : (process.env.TEST_LOG_LEVEL ?? 'silent'),
    ...options.env,
  });
  const lines = options.logLines;
  const logger = createLogger(
    config.logLevel,
    lines ? { write: (line: string) => lines.push(line) } : undefined,
  );
  const orm = await openOrm(connectUrl, logger, { pool: { min: 0, max: 5 }, ...options.ormOverrides });
  await migrate(orm);
  const secretBox = await secretBoxFor(config, logger);
  const hub = await createHub({ config, logger, orm, secretBox, clock: options.clock });
  await hub.app.listen({ port: 0, host: '127.0.0.1' });
  const stockSync = options.stockSync
    ? await startHubStockSync({
        config,
        databaseUrl: connectUrl,
        logger,
        sealer: secretBox!,
        metrics: hub.services.metrics,
        settings: options.stockSync,
      })
    : null;
  const webhooks = options.webhooks
    ? await startHubWebhooks({
        config,
        databaseUrl: connectUrl,
        orm,
        hub: hub.services,
        logger,
        sealer: secretBox!,
        settings: options.webhooks,
      })
    : null;
  const notices = options.notices
    ? await startHubNotices({
        config,
        databaseUrl: connectUrl,
        logger,
        sealer: secretBox!,
        metrics: hub.services.metrics,
        settings: options.notices,
      })
    : null;
  const { port } = hub.app.server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/graphql`;
  const wsUrl = `ws://127.0.0.1:${port}/graphql`;
  const clients: Client[] = [];
  const gql: TestHub['gql'] = async (query, variables, key = ADMIN_KEY) => {
    const response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
      body: JSON.stringify({ query, variables }),
    });
    return (await response.json()) as GraphQLResponse<never>;
  };
  const issueApiKey: TestHub['issueApiKey'] = async (
    role,
    { channelCode = null, label = `test ${role}` } = {},
  ) => {
    const response = await gql<{ createApiKey: { secret: string; apiKey: { id: string } } }>(
      `mutation($role: Role!, $label: String!, $channelCode: String) {
        createApiKey(role: $role, label: $label, channelCode: $channelCode) { secret apiKey { id } }
      }`,
      { role, label, channelCode },
    );
    if (!response.data) throw new Error(`createApiKey failed: ${JSON.stringify(response.errors)}`);
    return { secret: response.data.createApiKey.secret, id: response.data.createApiKey.apiKey.id };
  };

  return {
    url,
    wsUrl,
    orm,
    hub,
    stockSync,
    webhooks,
    notices,
    database: db,
    gql,
    issueApiKey,
    apiKey: async (role, channelCode = null) => (await issueApiKey(role, { channelCode })).secret,
    wsClient(key = ADMIN_KEY, wsOptions = {}) {
      const client = createClient({
        url: wsUrl,
        webSocketImpl: WebSocket,
        lazy: false,
        retryAttempts: 0,
        connectionParams: key ? { Authorization: `Bearer ${key}` } : {},
        on: {
          closed: (event) => {
            const { code, reason } = event as { code: number; reason: string };
            wsOptions.onClose?.(code, String(reason));
          },
        },
        onNonLazyError: () => undefined,
      });
      clients.push(client);
      return client;
    },
    async close() {
      await Promise.all(clients.map((c) => c.dispose()));
      await stockSync?.stop();
      await webhooks?.stop();
      await notices?.stop();
      await hub.close();
      await orm.close();
      await db.drop();
    },
  };
}

/** Runs one operation on a graphql-ws client and collects its single result. */
export function wsExecute<T = Record<string, unknown>>(
  client: Client,
  query: string,
  variables?: Record<string, unknown>,
): Promise<GraphQLResponse<T>> {
  return new Promise((resolve, reject) => {
    let result: GraphQLResponse<T> | undefined;
    client.subscribe<T>(
      { query, variables },
      {
        next: (value) => {
          result = value as GraphQLResponse<T>;
        },
        error: (err) => {
          if (Array.isArray(err)) resolve({ errors: err as GraphQLResponse['errors'] });
          else reject(err instanceof Error ? err : new Error(JSON.stringify(err)));
        },
        complete: () => resolve(result ?? {}),
      },
    );
  });
}

export function errorCodes(response: GraphQLResponse): unknown[] {
  return (response.errors ?? []).map((e) => e.extensions?.code);
}

/** A test hub whose database connections go through a TCP proxy the test can cut and restore. */
export async function startTestHubBehindProxy(
  label: string,
  options: Omit<Parameters<typeof startTestHub>[1] & object, 'connectVia'> = {},
): Promise<{ hub: TestHub; proxy: TcpProxy }> {
  const server = new URL(inject('databaseUrl'));
  const proxy = await startTcpProxy(server.hostname, Number(server.port || 5432));
  const hub = await startTestHub(label, {
    ...options,
    connectVia: (url) => {
      url.hostname = '127.0.0.1';
      url.port = String(proxy.port);
      return url;
    },
  });
  return { hub, proxy };
}
