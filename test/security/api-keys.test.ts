import { createClient, type Client } from 'graphql-ws';
import pg from 'pg';
import WebSocket from 'ws';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase } from '../support/database.js';
import { seedChannel, seedProduct } from '../support/fixtures.js';
import { graphql, startHubProcess, type HubProcess } from '../support/hub-process.js';
import {
  errorCodes,
  startTestHub,
  startTestHubBehindProxy,
  wsExecute,
  type GraphQLResponse,
  type TestHub,
} from '../support/hub.js';
import { feed } from '../support/subscribe.js';
import { waitFor } from '../support/wait.js';
import { Platform } from '../../common/enums.js';

const INVENTORY_CHANGED = `subscription ($code: String) { inventoryChanged(productCode: $code) { onHand } }`;
const ADJUST = `mutation ($code: String!, $delta: Int!) { adjustStock(productCode: $code, delta: $delta, reason: "test") { onHand } }`;
const REVOKE = `mutation ($id: ID!) { revokeApiKey(id: $id) }`;
const CREATE = `mutation ($role: Role!, $label: String!, $channelCode: String) {
  createApiKey(role: $role, label: $label, channelCode: $channelCode) { secret apiKey { id } }
}`;
const API_KEYS = `query ($includeRevoked: Boolean, $first: Int, $after: String) {
  apiKeys(includeRevoked: $includeRevoked, first: $first, after: $after) {
    edges { cursor node { id label role channelCode createdAt lastUsedAt revokedAt } }
    pageInfo { hasNextPage endCursor }
    totalCount
  }
}`;

interface ListedKey {
  id: string;
  label: string;
  role: string;
  channelCode: string | null;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}
type KeyPage = GraphQLResponse<{
  apiKeys: {
    edges: { cursor: string; node: ListedKey }[];
    pageInfo: { hasNextPage: boolean; endCursor: string | null };
    totalCount: number;
  };
}>;

/** A graphql-ws client on `wsUrl` with `key`, recording how the server closed it. */
function socket(
  wsUrl: string,
  key: string,
): { client: Client; closed: { code: number; reason: string } | null } {
  const state: { client: Client; closed: { code: number; reason: string } | null } = {
    client: createClient({
      url: wsUrl,
      webSocketImpl: WebSocket,
      lazy: false,
      retryAttempts: 0,
      connectionParams: { Authorization: `Bearer ${key}` },
      on: {
        closed: (event) => {
          const { code, reason } = event as { code: number; reason: string };
          state.closed ??= { code, reason: String(reason) };
        },
      },
      onNonLazyError: () => undefined,
    }),
    closed: null,
  };
  onTestFinished(() => state.client.dispose());
  return state;
}

describe('a revoked key is out everywhere, at once', () => {
  describe('over two hub processes on one database', () => {
    let database: Awaited<ReturnType<typeof createTestDatabase>>;
    let a: HubProcess;
    let b: HubProcess;
    const ws = (hub: HubProcess) => `${hub.base.replace('http', 'ws')}/graphql`;

    beforeAll(async () => {
      database = await createTestDatabase('security-api-keys-two');
      // One after the other: the first migrates the fresh database.
      a = await startHubProcess(database.url, { HOST: '127.0.0.1' });
      b = await startHubProcess(database.url, { HOST: '127.0.0.1' });
      await graphql(
        a.base,
        a.adminKey,
        `
          mutation {
            upsertProduct(input: { productCode: "KEYS", name: "Keys" }) {
              id
            }
          }
        `,
      );
    });

    afterAll(async () => {
      await Promise.all([a?.stop(), b?.stop()]);
      await database?.drop();
    });

    async function issue(role: string, label: string) {
      const data = (await graphql(a.base, a.adminKey, CREATE, { role, label })) as {
        createApiKey: { secret: string; apiKey: { id: string } };
      };
      return { secret: data.createApiKey.secret, id: data.createApiKey.apiKey.id };
    }

    it("closes the key's websockets on every process with 4403 when it is revoked on one", async () => {
      const key = await issue('OPS', 'two processes');
      const onA = socket(ws(a), key.secret);
      const onB = socket(ws(b), key.secret);
      const feeds = [onA, onB].map((s) =>
        feed<{ onHand: number }>(s.client, INVENTORY_CHANGED, 'inventoryChanged', { code: 'KEYS' }),
      );
      // Both subscriptions are live once a change reaches both (a change before one was set up reaches none).
      await waitFor(async () => {
        await graphql(a.base, a.adminKey, ADJUST, { code: 'KEYS', delta: 1 });
        return feeds.every((f) => f.events.length > 0 || f.errors.length > 0);
      }, 'both subscriptions to receive a change');
      for (const f of feeds) expect(f.errors).toEqual([]);
      // Another key's socket stays open.
      const other = socket(ws(b), (await issue('OPS', 'bystander')).secret);
      const bystander = feed(other.client, INVENTORY_CHANGED, 'inventoryChanged', { code: 'KEYS' });

      await graphql(a.base, a.adminKey, REVOKE, { id: key.id });

      await waitFor(
        () => onA.closed !== null && onB.closed !== null,
        'both sockets of the revoked key to close',
      );
      expect([onA.closed, onB.closed]).toEqual([
        { code: 4403, reason: 'API key revoked' },
        { code: 4403, reason: 'API key revoked' },
      ]);
      await waitFor(async () => {
        await graphql(a.base, a.adminKey, ADJUST, { code: 'KEYS', delta: 1 });
        return bystander.events.length > 0 || bystander.errors.length > 0;
      }, 'the other key to receive a change');
      expect(bystander.errors).toEqual([]);
      expect(other.closed).toBeNull();
    });

    it('closes the websockets of a key deleted outright in SQL, on the other process too', async () => {
      const key = await issue('OPS', 'deleted');
      const onB = socket(ws(b), key.secret);
      const changes = feed<{ onHand: number }>(onB.client, INVENTORY_CHANGED, 'inventoryChanged', {
        code: 'KEYS',
      });
      await waitFor(async () => {
        await graphql(a.base, a.adminKey, ADJUST, { code: 'KEYS', delta: 1 });
        return changes.events.length > 0 || changes.errors.length > 0;
      }, 'the subscription to receive a change');
      const sql = new pg.Client({ connectionString: database.url });
      await sql.connect();
      try {
        await sql.query('delete from api_key where id = $1', [key.id]);
      } finally {
        await sql.end();
      }
      await waitFor(() => onB.closed !== null, 'the deleted key’s socket to close');
      expect(onB.closed).toEqual({ code: 4403, reason: 'API key revoked' });
    });

    it('refuses the revoked key on HTTP on the other process by its next request', async () => {
      const key = await issue('ANALYST', 'http');
      const channels = async (hub: HubProcess) => {
        const response = await fetch(`${hub.base}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${key.secret}` },
          body: JSON.stringify({ query: '{ channels { code } }' }),
        });
        return errorCodes((await response.json()) as GraphQLResponse);
      };
      expect([await channels(a), await channels(b)]).toEqual([[], []]);
      await graphql(a.base, a.adminKey, REVOKE, { id: key.id });
      expect([await channels(b), await channels(a)]).toEqual([['UNAUTHENTICATED'], ['UNAUTHENTICATED']]);
    });
  });

  describe('on one hub', () => {
    it('refuses a subscribe sent on a socket still open after its key was revoked', async () => {
      const hub = await startTestHub('security-api-keys-open-socket');
      onTestFinished(() => hub.close());
      await seedProduct(hub.orm, 'KEYS', 1);
      const key = await hub.issueApiKey('OPS');
      const open = socket(hub.wsUrl, key.secret);
      expect(errorCodes(await wsExecute(open.client, '{ channels { code } }'))).toEqual([]);
      // Revoked with triggers off for this session, so no notification closes the socket first.
      const sql = new pg.Client({ connectionString: hub.database.url });
      await sql.connect();
      onTestFinished(() => sql.end());
      await sql.query(`set session_replication_role = replica`);
      await sql.query(`update api_key set revoked_at = now() where id = $1`, [key.id]);

      const late = feed(open.client, INVENTORY_CHANGED, 'inventoryChanged', { code: 'KEYS' });
      await waitFor(() => late.errors.length > 0, 'the subscribe to be refused');
      expect(errorCodes({ errors: late.errors.flat() as never })).toEqual(['UNAUTHENTICATED']);
      expect(open.closed).toBeNull();
    });

    it('closes the websockets of a key revoked while its listener was cut off, once it is back', async () => {
      const { hub, proxy } = await startTestHubBehindProxy('security-api-keys-missed');
      onTestFinished(async () => {
        await proxy.close();
        await hub.close();
      });
      const key = await hub.issueApiKey('OPS');
      const open = socket(hub.wsUrl, key.secret);
      expect(errorCodes(await wsExecute(open.client, '{ channels { code } }'))).toEqual([]);

      await proxy.cut();
      // Straight to the database, not through the proxy: the notification goes to no one.
      const sql = new pg.Client({ connectionString: hub.database.url });
      await sql.connect();
      onTestFinished(() => sql.end());
      await sql.query(`update api_key set revoked_at = now() where id = $1`, [key.id]);
      await proxy.restore();

      await waitFor(() => open.closed !== null, 'the socket to close');
      expect(open.closed).toEqual({ code: 4403, reason: 'API key revoked' });
    });
  });
});

describe('apiKeys lists keys (ADMIN) without their secrets', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub('security-api-keys-list');
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
  });
  afterAll(() => hub?.close());

  const list = (variables: Record<string, unknown> = {}, key?: string) =>
    hub.gql(API_KEYS, variables, key) as Promise<KeyPage>;
  const sql = <T>(query: string, params: unknown[] = []) =>
    hub.orm.em.getConnection().execute<T[]>(query, params);

  it('lists id, label, role, channel, created, last used and revoked, and no secret or hash', async () => {
    const store = await hub.issueApiKey('STOREFRONT', { channelCode: 'shop', label: 'web shop' });
    const ops = await hub.issueApiKey('OPS', { label: 'warehouse' });
    const response = await list();
    expect(response.errors).toBeUndefined();
    const nodes = response.data!.apiKeys.edges.map((e) => e.node);
    // Newest first.
    expect(nodes.slice(0, 2)).toEqual([
      {
        id: ops.id,
        label: 'warehouse',
        role: 'OPS',
        channelCode: null,
        createdAt: expect.any(String),
        lastUsedAt: null,
        revokedAt: null,
      },
      {
        id: store.id,
        label: 'web shop',
        role: 'STOREFRONT',
        channelCode: 'shop',
        createdAt: expect.any(String),
        lastUsedAt: null,
        revokedAt: null,
      },
    ]);
    const hashes = await sql<{ secret_hash: string }>(`select secret_hash from api_key`);
    const text = JSON.stringify(response);
    for (const secret of [store.secret, ops.secret, ...hashes.map((h) => h.secret_hash)]) {
      expect(text).not.toContain(secret);
    }
  });

  it('is FORBIDDEN to any other role', async () => {
    for (const role of ['OPS', 'ANALYST', 'CONNECTOR', 'STOREFRONT']) {
      const key = await hub.apiKey(role, role === 'CONNECTOR' || role === 'STOREFRONT' ? 'shop' : null);
      const response = await list({}, key);
      expect(errorCodes(response), role).toEqual(['FORBIDDEN']);
      expect(response.data ?? null, role).toBeNull();
    }
  });

  it('moves lastUsedAt when a key is used, writing its row at most once a minute', async () => {
    const key = await hub.issueApiKey('ANALYST', { label: 'last used' });
    await sql(`create table key_touches (id uuid)`);
    await sql(`create function count_key_touch() returns trigger language plpgsql as $$
      begin insert into key_touches values (new.id); return null; end $$`);
    await sql(`create trigger count_key_touch after update of last_used_at on api_key
      for each row execute function count_key_touch()`);
    const lastUsed = async () => {
      const [row] = await sql<{ at: string | null }>(
        `select last_used_at::text as at from api_key where id = ?`,
        [key.id],
      );
      return row.at === null ? null : new Date(row.at);
    };
    const touches = async () =>
      (await sql<{ n: number }>(`select count(*)::int as n from key_touches where id = ?`, [key.id]))[0].n;

    expect(await lastUsed()).toBeNull();
    for (let i = 0; i < 10; i++)
      expect(errorCodes(await hub.gql('{ channels { code } }', {}, key.secret))).toEqual([]);
    await waitFor(async () => (await lastUsed()) !== null, 'lastUsedAt to be set');
    // Ten requests within a minute: one write.
    expect(await touches()).toBe(1);

    const listed = async () =>
      (await list({ first: 500 })).data!.apiKeys.edges.find((e) => e.node.id === key.id)!.node.lastUsedAt;
    expect(Date.parse((await listed())!)).toBe((await lastUsed())!.getTime());
    // A minute on (the row moved back, as the clock cannot be; that write is touch 2): the next use moves it again.
    await sql(`update api_key set last_used_at = last_used_at - interval '2 minutes' where id = ?`, [key.id]);
    const backdated = (await lastUsed())!;
    await hub.gql('{ channels { code } }', {}, key.secret);
    await waitFor(async () => (await touches()) === 3, 'the next write');
    expect(Date.parse((await listed())!)).toBeGreaterThan(backdated.getTime());
  });

  it('lets a lost id be found by its label and revoked; revoked keys are listed on request only', async () => {
    const lost = await hub.issueApiKey('OPS', { label: 'lost laptop' });
    const found = (await list({ first: 500 })).data!.apiKeys.edges.find(
      (e) => e.node.label === 'lost laptop',
    )!;
    expect(found.node.id).toBe(lost.id);

    expect(await hub.gql(REVOKE, { id: found.node.id })).toEqual({ data: { revokeApiKey: true } });
    expect(errorCodes(await hub.gql('{ channels { code } }', {}, lost.secret))).toEqual(['UNAUTHENTICATED']);
    const active = (await list({ first: 500 })).data!.apiKeys.edges.map((e) => e.node.id);
    expect(active).not.toContain(lost.id);
    const all = (await list({ first: 500, includeRevoked: true })).data!.apiKeys.edges.map((e) => e.node);
    expect(all.find((k) => k.id === lost.id)?.revokedAt).toEqual(expect.any(String));
  });

  it('pages with first and after, every key once, and refuses a cursor it did not hand out', async () => {
    for (let i = 0; i < 5; i++) await hub.issueApiKey('ANALYST', { label: `page ${i}` });
    const everything = (await list({ includeRevoked: true, first: 500 })).data!.apiKeys;
    const seen: string[] = [];
    let after: string | null = null;
    for (;;) {
      const page: KeyPage = await list({ includeRevoked: true, first: 2, after });
      expect(page.data!.apiKeys.totalCount).toBe(everything.totalCount);
      seen.push(...page.data!.apiKeys.edges.map((e) => e.node.id));
      if (!page.data!.apiKeys.pageInfo.hasNextPage) break;
      after = page.data!.apiKeys.pageInfo.endCursor;
    }
    expect(seen).toEqual(everything.edges.map((e) => e.node.id));
    expect(seen).toHaveLength(everything.totalCount);
    expect(errorCodes(await list({ after: '00000000-0000-4000-8000-000000000000' }))).toEqual([
      'BAD_USER_INPUT',
    ]);
    expect(errorCodes(await list({ first: 501 }))).toEqual(['BAD_USER_INPUT']);
  });
});

describe('the first ADMIN key is printed only when no HUB_ADMIN_KEY is set', () => {
  it('makes and prints no key on a fresh database when HUB_ADMIN_KEY is set; that key works', async () => {
    const database = await createTestDatabase('security-api-keys-first');
    onTestFinished(() => database.drop());
    const adminKey = 'rotate-me-0123456789-abcdefghij';
    const run = await startHubProcess(database.url, { HUB_ADMIN_KEY: adminKey, LOG_LEVEL: 'info' });
    onTestFinished(() => run.stop().then(() => undefined));

    expect(run.output()).not.toContain('First start');
    expect(run.output()).not.toMatch(/hub_[\w-]{20,}/);
    expect(await graphql(run.base, adminKey, '{ apiKeys { totalCount } }')).toEqual({
      apiKeys: { totalCount: 0 },
    });
  });

  it('still makes and prints one on a fresh database without HUB_ADMIN_KEY', async () => {
    const database = await createTestDatabase('security-api-keys-first-none');
    onTestFinished(() => database.drop());
    const run = await startHubProcess(database.url, { HUB_ADMIN_KEY: undefined });
    onTestFinished(() => run.stop().then(() => undefined));
    const printed = /\n\s+(hub_[\w-]+)\n/.exec(run.output());
    expect(printed, run.output()).not.toBeNull();
    expect(await graphql(run.base, printed![1], '{ apiKeys { totalCount } }')).toEqual({
      apiKeys: { totalCount: 1 },
    });
  });
});
