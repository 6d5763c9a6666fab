import { parse } from 'csv-parse/sync';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OrderStatus, Platform } from '../common/enums.js';
import type { Channel } from '../entities/index.js';
import { ConfigError, loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { isConnectionError } from '../server/read-replicas.js';
import { RequestContext } from '../services/context.js';
import { readQuery } from '../services/read-db.js';
import { seedChannel, seedOrder } from './support/fixtures.js';
import { startTestHub, wsExecute, type TestHub } from './support/hub.js';
import { postgresBinaries, startReplicaCluster, type ReplicaCluster } from './support/replica-cluster.js';
import { scratchDatabase } from './support/scratch-database.js';
import { waitFor } from './support/wait.js';

describe('DATABASE_READ_URL', () => {
  const load = (read: string, primary: string | undefined = 'postgres://db/hub') =>
    loadConfig({ DATABASE_URL: primary, DATABASE_READ_URL: read });

  it('takes one URL or several, comma separated', () => {
    expect(load('postgres://r1/hub').databaseReadUrls).toEqual(['postgres://r1/hub']);
    expect(load(' postgres://r1:5433/hub , postgresql://u:p@r2/hub ').databaseReadUrls).toEqual([
      'postgres://r1:5433/hub',
      'postgresql://u:p@r2/hub',
    ]);
    expect(loadConfig({ DATABASE_URL: 'postgres://db/hub' }).databaseReadUrls).toEqual([]);
  });

  it('names the bad entry, without repeating a URL that may hold a password', () => {
    const message = (read: string, primary?: string) => {
      try {
        load(read, primary);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(message('mysql://r1/hub')).toContain(
      'DATABASE_READ_URL: must start with postgres:// or postgresql://',
    );
    expect(message('postgres://r1/hub,not a url:secret@')).toContain(
      'DATABASE_READ_URL: entry 2 is not a URL',
    );
    expect(message('postgres://r1/hub,not a url:secret@')).not.toContain('secret');
    expect(message('postgres://r1/hub,postgres://r1/hub')).toContain('lists the same URL twice');
    expect(message('postgres://r1/hub', '')).toContain('DATABASE_READ_URL: needs DATABASE_URL');
  });

  it('tells a connection that failed from a statement that did', () => {
    expect(
      isConnectionError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' })),
    ).toBe(true);
    expect(isConnectionError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isConnectionError(Object.assign(new Error('terminating connection'), { code: '57P01' }))).toBe(
      true,
    );
    expect(isConnectionError(Object.assign(new Error('syntax error'), { code: '42601' }))).toBe(false);
    expect(isConnectionError(Object.assign(new Error('canceling statement'), { code: '57014' }))).toBe(false);
  });
});

const ORDERS = `query { orders(first: 100) { totalCount edges { node { externalId status } } } }`;
type OrdersData = {
  orders: { totalCount: number; edges: { node: { externalId: string; status: string } }[] };
};

const bin = await postgresBinaries();
// CI sets this: there the test must run, not be skipped.
if (!bin && process.env.REPLICA_TEST_REQUIRED)
  throw new Error('REPLICA_TEST_REQUIRED: no PostgreSQL binaries with pg_basebackup (set PG_BINDIR)');

// The machine's PostgreSQL binaries (initdb, pg_ctl, pg_basebackup) make the primary and its replica.
describe.skipIf(!bin)('read replicas (a real streaming replica)', () => {
  let cluster: ReplicaCluster | undefined;
  let hub: TestHub | undefined;
  let channel: Channel;
  let analyst: string;
  let ops: string;
  const logLines: string[] = [];
  const quiet = createLogger('silent');

  beforeAll(async () => {
    cluster = await startReplicaCluster(bin!);
    const database = await scratchDatabase(cluster.primaryUrl(), 'read_replicas');
    // The hub's database exists on the replica before the hub may read there.
    await cluster.caughtUp();
    hub = await startTestHub('read-replicas', {
      database,
      env: { DATABASE_READ_URL: cluster.replicaUrl('read_replicas') },
      logLines,
    });
    channel = await seedChannel(hub.orm, 'tmall', Platform.TAOBAO);
    for (let i = 0; i < 3; i++) await seedOrder(hub.orm, { channel, externalId: `OLD-${i}` });
    analyst = await hub.apiKey('ANALYST');
    ops = await hub.apiKey('OPS');
    await cluster.caughtUp();
  });

  afterAll(async () => {
    try {
      await hub?.close();
    } finally {
      await cluster?.stop();
    }
  });

  const orders = async (key: string) => {
    const res = await hub!.gql<OrdersData>(ORDERS, {}, key);
    expect(res.errors).toBeUndefined();
    return new Map(res.data!.orders.edges.map((e) => [e.node.externalId, e.node.status]));
  };
  const exported = async (key: string) => {
    const res = await fetch(`${hub!.url.replace(/\/graphql$/, '')}/exports/orders.csv`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    const rows = parse(Buffer.from(await res.arrayBuffer()), { bom: true, columns: true }) as Record<
      string,
      string
    >[];
    return rows.map((r) => r.externalId).sort();
  };
  const report = () =>
    readQuery<{ port: number; standby: boolean; orders: string }>(
      RequestContext.system(hub!.orm.em.fork(), quiet, hub!.hub.services),
      `select inet_server_port() as port, pg_is_in_recovery() as standby, (select count(*) from "order") as orders`,
    );
  const salesByStatus = async () => {
    const day = 86_400_000;
    const res = await hub!.gql<{ salesReport: { key: string; orders: number }[] }>(
      `query ($from: DateTime!, $to: DateTime!) {
        salesReport(from: $from, to: $to, groupBy: STATUS) { key orders }
      }`,
      { from: new Date(Date.now() - day).toISOString(), to: new Date(Date.now() + day).toISOString() },
      analyst,
    );
    expect(res.errors).toBeUndefined();
    return res.data!.salesReport.map((r) => [r.key, r.orders]);
  };
  const applicationsOn = async (url: string) => {
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    try {
      const { rows } = await client.query<{ name: string }>(
        `select distinct application_name as name from pg_stat_activity where datname = 'read_replicas'`,
      );
      return rows.map((r) => r.name);
    } finally {
      await client.end();
    }
  };

  it("serves an analyst's queries, reports and exports from the replica while the primary takes writes", async () => {
    // Frozen replay: the replica answers as of now, whatever the primary takes after.
    await cluster!.pauseReplay();
    await seedOrder(hub!.orm, { channel, externalId: 'NEW-1' });
    const [target] = await hub!.orm.em
      .fork()
      .getConnection()
      .execute<{ id: string }[]>(`select id from "order" where external_id = 'OLD-0'`);
    // A mutation (OPS) lands on the primary, and what it returns is read back from there.
    const cancelled = await hub!.gql<{ cancelOrder: { status: string } }>(
      `mutation($id: ID!) { cancelOrder(orderId: $id, reason: "test") { status } }`,
      { id: target.id },
      ops,
    );
    expect(cancelled.errors).toBeUndefined();
    expect(cancelled.data!.cancelOrder.status).toBe(OrderStatus.CANCELLED);

    // OPS reads the primary: the new order and the cancellation.
    const seenByOps = await orders(ops);
    expect(seenByOps.has('NEW-1')).toBe(true);
    expect(seenByOps.get('OLD-0')).toBe(OrderStatus.CANCELLED);
    // The analyst reads the replica: neither yet.
    const seenByAnalyst = await orders(analyst);
    expect([...seenByAnalyst.keys()].sort()).toEqual(['OLD-0', 'OLD-1', 'OLD-2']);
    expect(seenByAnalyst.get('OLD-0')).toBe(OrderStatus.PAID);
    expect(await exported(analyst)).toEqual(['OLD-0', 'OLD-1', 'OLD-2']);
    // The connections that did it are the hub's analyst and export pools, on the replica.
    expect(await applicationsOn(cluster!.replicaUrl())).toEqual(
      expect.arrayContaining(['order-hub-analyst-requests', 'order-hub-exports']),
    );
    // The same over a websocket.
    const overWs = await wsExecute<OrdersData>(hub!.wsClient(analyst), ORDERS);
    expect(overWs.data!.orders.totalCount).toBe(3);
    const opsOverWs = await wsExecute<OrdersData>(hub!.wsClient(ops), ORDERS);
    expect(opsOverWs.data!.orders.totalCount).toBe(4);
    // Reports read the replica whoever asks: the server that answers is the standby.
    expect(await report()).toEqual([{ port: cluster!.replicaPort, standby: true, orders: '3' }]);
    // The analyst's sales report, from the replica: three sales, none cancelled yet.
    expect(await salesByStatus()).toEqual([['PAID', 3]]);

    // Once it replays again, the replica shows the writes.
    await cluster!.resumeReplay();
    await cluster!.caughtUp();
    const caughtUp = await orders(analyst);
    expect(caughtUp.has('NEW-1')).toBe(true);
    expect(caughtUp.get('OLD-0')).toBe(OrderStatus.CANCELLED);
    expect(await salesByStatus()).toEqual([
      ['PAID', 3],
      ['CANCELLED', 1],
    ]);
    // An SQL error in a report is still an error, not a fallback.
    await expect(
      readQuery(
        RequestContext.system(hub!.orm.em.fork(), quiet, hub!.hub.services),
        'select * from no_such_table',
      ),
    ).rejects.toThrow(/no_such_table/);
    expect(logLines.filter((l) => l.includes('read replica unreachable'))).toEqual([]);
  });

  it('falls back to the primary with a warning, not an error, when the replica goes away', async () => {
    await cluster!.stopReplica();
    await seedOrder(hub!.orm, { channel, externalId: 'NEW-2' });

    const seen = await orders(analyst);
    expect(seen.has('NEW-2')).toBe(true);
    expect(await exported(analyst)).toContain('NEW-2');
    expect(await report()).toEqual([{ port: cluster!.primaryPort, standby: false, orders: '5' }]);

    const warnings = logLines
      .map((l) => JSON.parse(l) as { level: number; msg: string; replica?: string })
      .filter((l) => l.msg.startsWith('read replica unreachable'));
    // One warning for the outage (level 40: warn), naming the replica without credentials.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({
      level: 40,
      replica: `127.0.0.1:${cluster!.replicaPort}/read_replicas`,
    });
  });

  it('reads from the replica again once it answers', async () => {
    await cluster!.startReplica();
    await cluster!.caughtUp();
    // The hub tries a replica marked down every 5 s.
    await waitFor(async () => (await report())[0].standby, 'reports to read from the replica again');
    expect(await report()).toEqual([{ port: cluster!.replicaPort, standby: true, orders: '5' }]);
    expect((await orders(analyst)).has('NEW-2')).toBe(true);
    expect(logLines.some((l) => l.includes('read replica answers again'))).toBe(true);
  });
});
