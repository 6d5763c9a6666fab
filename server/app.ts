import { randomUUID } from 'node:crypto';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginInlineTrace } from '@apollo/server/plugin/inlineTrace';
import { ApolloServerPluginLandingPageLocalDefault } from '@apollo/server/plugin/landingPage/default';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import fastifyApollo, { fastifyApolloDrainPlugin } from '@as-integrations/fastify';
import type { MikroORM } from '@mikro-orm/postgresql';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  GraphQLError,
  NoSchemaIntrospectionCustomRule,
  OperationTypeNode,
  execute,
  getOperationAST,
  parse,
  specifiedRules,
  validate,
  type ExecutionArgs,
  type ExecutionResult,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { useServer } from 'graphql-ws/use/ws';
import { WebSocket, WebSocketServer } from 'ws';
import { authenticate, ENV_ADMIN_KEY_ID } from '../services/api-keys.js';
import { RequestContext, type DomainSettings, type HubServices } from '../services/context.js';
import { PlatformClients } from '../services/platform-client.js';
import { LiveTracking, type WallClock } from '../services/live-tracking.js';
import type { Sealer } from '../services/secret-box.js';
import { ReserveCombiner } from '../services/reserve-combiner.js';
import { HubMetrics, pgPoolFigures, tarnPoolFigures } from '../services/metrics.js';
import pg from 'pg';
import { EventBus } from '../subscriptions/bus.js';
import {
  MemoryTransport,
  OrderEventFeed,
  PostgresTransport,
  type FeedTransport,
} from '../subscriptions/order-feed.js';
import type { Sql } from '../subscriptions/order-events.js';
import { PostgresListener } from '../subscriptions/postgres-listener.js';
import { pubsubKey, RedisTransport } from '../subscriptions/redis-transport.js';
import { HubStreams } from '../subscriptions/streams.js';
import { SubscriptionFanout, type Connection } from '../subscriptions/fanout.js';
import { KeySockets } from '../subscriptions/key-sockets.js';
import type { HubConfig } from './config.js';
import { formatHubError, logUnexpected } from './errors.js';
import { Role } from '../common/enums.js';
import { ForbiddenError, HubError } from '../common/errors.js';
import { hubSchema, NoSubgraphSdlRule } from './graphql-schema.js';
import type { Logger } from './logger.js';
import { assertQueryCost, queryLimitRules, type QueryLimits } from './query-limits.js';
import { openRequestOrm } from './orm.js';
import {
  REPLICA_CONNECT_TIMEOUT_MS,
  ReadPools,
  ReplicaHealth,
  replicaRoutingDriver,
} from './read-replicas.js';
import { httpLimits, type Caller } from './rate-limits.js';
import { WebsocketLimits } from './websocket-limits.js';
import { registerWebhooks } from './webhooks.js';
import { registerCarrierWebhooks } from './carrier-webhooks.js';
import { registerExports } from './exports.js';
import { registerBoard } from './board.js';
import { registerMetrics } from './metrics.js';

export const GRAPHQL_PATH = '/graphql';
const REQUEST_ID_SLOT = '<request-id>';
const MAX_BODY_BYTES = 2 * 1024 * 1024;
const REPLAY_POOL_SIZE = 2;
/** Exports streaming at once in this process; more wait for a connection. */
const EXPORT_POOL_SIZE = 2;

export interface Hub {
  app: FastifyInstance;
  /** Where committed events (orders, shipments, stock) are published to this process's subscribers. */
  events: EventBus;
  /** Publishes numbered order events to `events`; its `lastSeq` is how far this process has got. */
  orderFeed: OrderEventFeed;
  /** Groups identical subscriptions; its stats show how many source streams serve how many sockets. */
  fanout: SubscriptionFanout;
  /** What every context this hub makes reaches as `ctx.hub`; the scheduler takes it too. */
  services: HubServices;
  /** Stops taking work, lets in-flight requests finish, closes websockets with 1001. */
  close(): Promise<void>;
}

type HubDeps = {
  config: HubConfig;
  logger: Logger;
  orm: MikroORM;
  /** The database the subscriptions listen on; the URL the ORM was opened with when absent. */
  databaseUrl?: string;
  /** Seals platform credentials (server/secret-key.ts); none: setChannelApi says there is no key. */
  secretBox?: Sealer | null;
  /** The time live tracking's answers are fresh by; Date when absent (tests move it on). */
  clock?: WallClock;
};

/** The figures of a MikroORM's pool (knex's tarn pool); zeros until it has one. */
function ormPool(orm: MikroORM) {
  return tarnPoolFigures({
    numUsed: () => knexPool(orm)?.numUsed() ?? 0,
    numFree: () => knexPool(orm)?.numFree() ?? 0,
    numPendingAcquires: () => knexPool(orm)?.numPendingAcquires() ?? 0,
  });
}

type TarnPool = { numUsed(): number; numFree(): number; numPendingAcquires(): number };
function knexPool(orm: MikroORM): TarnPool | undefined {
  return (orm.em.getConnection().getKnex().client as { pool?: TarnPool }).pool;
}

/**
 * Seconds the oldest due stock push (a listing's or a product's job) has waited; 0 when none is due. The hub's jobs
 * all have the default priority, so graphile-worker's main index (priority, run_at over available jobs) gives them
 * oldest first: the scan stops at the first stock job, never reading a backlog of pushes whole.
 */
const OLDEST_DUE_PUSH = `select coalesce(extract(epoch from now() - (
    select j.run_at from graphile_worker._private_jobs j
     where j.is_available and j.run_at <= now()
       and j.task_id in (select id from graphile_worker._private_tasks
                          where identifier in ('stock_sync', 'stock_sync_product'))
     order by j.priority, j.run_at limit 1)), 0)::float8 as age`;

/** Reads the bearer secret from an HTTP header or a graphql-ws connection_init payload. */
function bearer(value: unknown): string | null {
  if (typeof value !== 'string') return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(value.trim());
  return match ? match[1] : null;
}

async function identify(deps: HubDeps, pools: RequestPools, secret: string | null): Promise<Caller> {
  if (secret === null) return { principal: null, authFailure: null };
  const principal = await authenticate(pools.channel.em.fork(), secret, {
    adminKey: deps.config.adminKey,
    logger: deps.logger,
  });
  return { principal, authFailure: principal ? null : 'This API key is unknown or revoked.' };
}

/**
 * API requests run on pools of their own, never on the main one that webhooks and jobs use,
 * each pool with its statement_timeout: short for channel keys, longer for staff. With read replicas,
 * `analyst` is the staff pool whose reads go to a replica: ANALYST keys' queries run there.
 */
export interface RequestPools {
  channel: MikroORM;
  staff: MikroORM;
  analyst: MikroORM | null;
}

const STAFF_ROLES: ReadonlySet<Role> = new Set([Role.ANALYST, Role.ADMIN, Role.OPS]);

async function openRequestPools(deps: HubDeps, replicas: ReplicaHealth): Promise<RequestPools> {
  const { config, logger, orm } = deps;
  const [channel, staff, analyst] = await Promise.all([
    openRequestOrm(orm, logger, {
      name: 'channel-requests',
      statementTimeoutMs: config.channelStatementTimeoutMs,
      size: config.requestPoolSize,
    }),
    openRequestOrm(orm, logger, {
      name: 'staff-requests',
      statementTimeoutMs: config.staffStatementTimeoutMs,
      size: config.requestPoolSize,
    }),
    replicas.urls.length
      ? openRequestOrm(orm, logger, {
          name: 'analyst-requests',
          statementTimeoutMs: config.staffStatementTimeoutMs,
          size: config.requestPoolSize,
          replicas: {
            urls: replicas.urls,
            driver: replicaRoutingDriver(replicas),
            connectTimeoutMs: REPLICA_CONNECT_TIMEOUT_MS,
          },
        })
      : null,
  ]);
  return { channel, staff, analyst };
}

/**
 * The pool a request runs on. An ANALYST key's query reads from a replica (it may lag a moment); its mutations
 * and subscriptions, and every other key's requests, stay on the primary, so what a request wrote it reads
 * back. `operation` null (not known): the primary.
 */
function poolFor(pools: RequestPools, principal: Caller['principal'], operation: OperationTypeNode | null) {
  if (!principal) return pools.channel;
  if (principal.role === Role.ANALYST && pools.analyst && operation === OperationTypeNode.QUERY)
    return pools.analyst;
  return STAFF_ROLES.has(principal.role) ? pools.staff : pools.channel;
}

/**
 * Whether an HTTP request's GraphQL operation is a query, a mutation or a subscription; null when it cannot be
 * told (no query text, as with a persisted query, or one that does not parse: Apollo answers that).
 */
function operationOf(request: FastifyRequest): OperationTypeNode | null {
  const source = request.method === 'GET' ? request.query : request.body;
  if (!source || typeof source !== 'object') return null;
  const { query, operationName } = source as { query?: unknown; operationName?: unknown };
  if (typeof query !== 'string') return null;
  try {
    const name = typeof operationName === 'string' ? operationName : undefined;
    return getOperationAST(parse(query), name)?.operation ?? null;
  } catch {
    return null;
  }
}

async function contextFor(
  deps: HubDeps,
  pools: RequestPools,
  hub: HubServices,
  { principal, authFailure }: Caller,
  requestId: string,
  operation: OperationTypeNode | null,
  connection: Connection | null = null,
): Promise<RequestContext> {
  const logger = deps.logger.child({ requestId });
  const em = poolFor(pools, principal, operation).em.fork();
  return new RequestContext({ em, principal, requestId, logger, hub, connection, authFailure });
}

export function domainSettings(config: HubConfig): DomainSettings {
  return {
    reservationTtlSeconds: config.reservationTtlSeconds,
    stockLevels: {
      restockMargin: config.restockMargin,
      suddenDropPercent: config.suddenDropPercent,
      suddenDropWindowSeconds: config.suddenDropWindowSeconds,
    },
    remoteProvinces: config.remoteProvinces,
    rateLimits: config.rateLimits,
    holdLimits: {
      maxUnits: config.holdMaxUnits,
      maxOpenPerKey: config.holdMaxOpenPerKey,
      maxTtlSeconds: config.holdMaxTtlSeconds,
    },
    webhookUrlsMayBePrivate: config.outboundWebhooks.allowPrivate,
  };
}

/**
 * One hub's long-lived services, from its configuration; `streams` where it serves
 * websockets. Its owner closes `platformClients` and `liveTracking` when it is done.
 */
export function hubServices(
  config: HubConfig,
  orm: MikroORM,
  streams: HubStreams | null = null,
  secretBox: Sealer | null = null,
  metrics: HubMetrics = new HubMetrics(),
  clock?: WallClock,
): HubServices {
  const settings = domainSettings(config);
  return {
    metrics,
    settings,
    reserveCombiner: new ReserveCombiner(orm.em.fork(), settings, undefined, metrics),
    platformClients: new PlatformClients({ timeoutMs: config.pollTimeoutMs, retries: config.pollRetries }),
    liveTracking: new LiveTracking(config.carrierTracking, clock),
    streams,
    lastOrderNoted: new Map(),
    secretBox,
  };
}

/** Builds the hub: GraphQL over HTTP and graphql-ws on one port and path, plus health routes. */
export async function createHub(deps: HubDeps): Promise<Hub> {
  const { config, logger, orm } = deps;
  const schema = await hubSchema();
  const limitRules = queryLimitRules(config);
  const validationRules = config.graphqlIntrospection ? limitRules : [...limitRules, NoSubgraphSdlRule];
  // With introspection off, the websocket refuses it too (Apollo adds the same rule on HTTP).
  const wsRules = config.graphqlIntrospection
    ? validationRules
    : [...validationRules, NoSchemaIntrospectionCustomRule];

  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: MAX_BODY_BYTES,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w-]{1,64}$/.test(given) ? given : randomUUID();
    },
    forceCloseConnections: 'idle',
    // A client that sends its request slowly is answered 408 and cut off; websockets, once
    // upgraded, are not HTTP requests any more and are not timed by these.
    requestTimeout: config.requestTimeoutMs,
    connectionTimeout: config.connectionTimeoutMs,
    http: {
      // Node reads the request timeout when the server is made; Fastify's, set after, goes unheeded.
      requestTimeout: config.requestTimeoutMs,
      // Node looks for requests past their time every 30 s by default: often enough to keep the limit.
      connectionsCheckingInterval: Math.min(30_000, Math.max(100, config.requestTimeoutMs / 4)),
    },
  });
  let closing = false;
  app.addHook('onSend', async (request, reply) => {
    reply.header('x-request-id', request.id);
    // A keep-alive connection would hold the stop open after its last in-flight request.
    if (closing) reply.header('connection', 'close');
  });

  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_request, reply) => {
    try {
      await orm.em.getConnection().execute('select 1');
      return { status: 'ready' };
    } catch (err) {
      logger.warn({ err }, 'readiness check: database does not answer');
      return reply.code(503).send({ status: 'database unavailable' });
    }
  });

  const databaseUrl = deps.databaseUrl ?? orm.config.get('clientUrl')!;
  const metrics = new HubMetrics();
  registerMetrics(app, { metrics, token: config.metricsToken });
  const events = new EventBus();
  // The feed's own small pool: numbering and publishing never queue behind request traffic.
  const feedPool = new pg.Pool({ connectionString: databaseUrl, max: 4, application_name: 'order-hub-feed' });
  feedPool.on('error', (err) => logger.warn({ err }, 'subscriptions: feed connection lost'));
  const sql: Sql = async <T>(query: string, params?: unknown[]) =>
    (await feedPool.query(query, params)).rows as T[];
  const orderFeed = new OrderEventFeed({
    sql,
    bus: events,
    transport: await feedTransport(config, sql, logger),
    logger,
    metrics,
  });
  // Replays (`after`) read history on a small pool of their own, in bounded pages: however many
  // clients replay, the feed's numbering and publishing never queue behind them.
  const replayPool = new pg.Pool({
    connectionString: databaseUrl,
    max: REPLAY_POOL_SIZE,
    application_name: 'order-hub-replay',
  });
  replayPool.on('error', (err) => logger.warn({ err }, 'subscriptions: replay connection lost'));
  const replaySql: Sql = async <T>(query: string, params?: unknown[]) =>
    (await replayPool.query(query, params)).rows as T[];
  const replicas = new ReplicaHealth(config.databaseReadUrls, logger);
  const pools = await openRequestPools(deps, replicas);
  // Exports hold a connection for as long as a file streams: a few of their own, never the requests' pools.
  // They read from a replica where there is one (a file may lag a moment), the primary otherwise.
  const exportOptions = { max: EXPORT_POOL_SIZE, application_name: 'order-hub-exports' };
  const exportPrimary = new pg.Pool({ ...exportOptions, connectionString: databaseUrl });
  exportPrimary.on('error', (err) => logger.warn({ err }, 'exports: database connection lost'));
  const exportPool = new ReadPools(exportPrimary, replicas, exportOptions, logger);
  const analyst = pools.analyst;
  const services: HubServices = {
    ...hubServices(
      config,
      orm,
      new HubStreams(events, orderFeed, replaySql, REPLAY_POOL_SIZE, config.replayEventsPerSecond),
      deps.secretBox ?? null,
      metrics,
      deps.clock,
    ),
    // Reports (readQuery) read from a replica whoever asks: the analyst pool's read connection.
    reads: analyst
      ? { execute: (query, params) => analyst.em.getConnection('read').execute(query, params, 'all') }
      : null,
  };

  if (config.serve.has('webhooks')) {
    await registerWebhooks(app, { orm, logger, hub: services, config });
    await registerCarrierWebhooks(app, { orm, logger, config, hub: services });
  }

  const apollo = new ApolloServer<RequestContext>({
    schema,
    validationRules,
    introspection: config.graphqlIntrospection,
    // The hub handles SIGTERM and SIGINT itself, draining HTTP and websockets in order.
    stopOnTerminationSignals: false,
    includeStacktraceInErrorResponses: false,
    // The request id is not known here; requestIdPlugin puts it in.
    formatError: (formatted, error) => formatHubError(formatted, error, REQUEST_ID_SLOT),
    plugins: [
      fastifyApolloDrainPlugin(app),
      config.graphqlIntrospection
        ? ApolloServerPluginLandingPageLocalDefault({ embed: true })
        : ApolloServerPluginLandingPageDisabled(),
      requestIdPlugin(logger),
      queryCostPlugin(schema, config),
      // The hub sets no cache hints; on, the plugin wraps every field's resolver to look for them (~10 % of
      // the CPU of a page of orders).
      ApolloServerPluginCacheControlDisabled(),
      // A federation router asks for field timings (ftv1) with a header; errors in them stay masked (the
      // default). Named here, Apollo does not add it itself with a line on stdout outside the JSON logs.
      ApolloServerPluginInlineTrace(),
    ],
  });
  await apollo.start();
  const limits = await httpLimits({
    settings: config.rateLimits,
    redisUrl: config.redisUrl,
    sql,
    logger,
    identify: (authorization) => identify(deps, pools, bearer(authorization)),
  });
  const serveGraphql = config.serve.has('graphql');
  // A scope of its own, so the limits apply to GraphQL only.
  if (serveGraphql) {
    await app.register(async (scope) => {
      await limits.register(scope);
      const contextOf = (request: FastifyRequest) => {
        const caller = limits.callerOf(request);
        // Only an ANALYST key's operation changes the pool: others are not parsed twice.
        const operation =
          caller.principal?.role === Role.ANALYST && pools.analyst ? operationOf(request) : null;
        return contextFor(deps, pools, services, caller, String(request.id), operation);
      };
      await scope.register(fastifyApollo(apollo), { path: GRAPHQL_PATH, context: contextOf });
      registerExports(scope, { pool: exportPool, contextOf });
    });
    // The board is a client of /graphql: served where GraphQL is.
    await registerBoard(app);
  }

  // A process that does not serve GraphQL takes no websocket upgrade: its server is left unattached.
  const wss = serveGraphql
    ? new WebSocketServer({ server: app.server, path: GRAPHQL_PATH, maxPayload: MAX_BODY_BYTES })
    : new WebSocketServer({ noServer: true });
  await orderFeed.start();
  const keySockets = new KeySockets();
  const listener = new PostgresListener({
    databaseUrl,
    bus: events,
    logger,
    metrics,
    orderEvents: {
      pending: () => orderFeed.pending(),
      numbered: config.pubsub === 'postgres' ? () => orderFeed.catchUp() : undefined,
      reconnected: () => {
        orderFeed.pending();
        orderFeed.catchUp();
      },
    },
    apiKeys: keySockets,
  });
  await listener.start();
  const fanout = new SubscriptionFanout(config.subscriberMaxQueue, logger);
  metrics.watchSubscriptions(() => fanout.stats());
  const unwatchPools = [
    metrics.watchPool('main', ormPool(orm)),
    metrics.watchPool('channel-requests', ormPool(pools.channel)),
    metrics.watchPool('staff-requests', ormPool(pools.staff)),
    ...(pools.analyst ? [metrics.watchPool('analyst-requests', ormPool(pools.analyst))] : []),
    metrics.watchPool('feed', pgPoolFigures(feedPool)),
    metrics.watchPool('replay', pgPoolFigures(replayPool)),
    metrics.watchPool('exports', pgPoolFigures(exportPrimary)),
  ];
  // Read from the queue at scrape time, on the main pool: a database that does not answer leaves it out.
  metrics.watchStockSyncQueue(async () => {
    try {
      const [row] = await orm.em.getConnection().execute<{ age: number }[]>(OLDEST_DUE_PUSH);
      return Number(row.age);
    } catch (err) {
      logger.debug({ err }, 'metrics: the stock sync queue could not be read');
      return null;
    }
  });
  const websocketLimits = new WebsocketLimits(config.rateLimits);
  websocketLimits.watch(wss);
  const sockets = useGraphqlWs(
    deps,
    pools,
    services,
    schema,
    wsRules,
    wss,
    fanout,
    keySockets,
    websocketLimits,
  );

  return {
    app,
    events,
    orderFeed,
    fanout,
    services,
    async close() {
      closing = true;
      for (const unwatch of unwatchPools) unwatch();
      await sockets.dispose();
      events.close();
      await listener.stop();
      await orderFeed.stop();
      await feedPool.end();
      await replayPool.end();
      await app.close();
      await apollo.stop();
      await limits.close();
      replicas.close();
      await Promise.all([
        pools.channel.close(),
        pools.staff.close(),
        pools.analyst?.close(),
        exportPool.end(),
      ]);
      services.platformClients.close();
      services.liveTracking.close();
    },
  };
}

async function feedTransport(config: HubConfig, sql: Sql, logger: Logger): Promise<FeedTransport> {
  if (config.pubsub === 'memory') return new MemoryTransport();
  if (config.pubsub === 'postgres') return new PostgresTransport();
  const [{ name }] = await sql<{ name: string }>('select current_database() as name');
  return new RedisTransport(config.redisUrl!, `order-hub:${name}:order-events`, logger, await pubsubKey(sql));
}

/** Logs unexpected errors and puts the request id into the errors the client sees, so a reply leads to its log line. */
function requestIdPlugin(logger: Logger): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didEncounterErrors({ contextValue, errors }) {
          logUnexpected(errors, contextValue?.requestId ?? 'unknown', logger);
        },
        async willSendResponse({ contextValue, response }) {
          if (response.body.kind !== 'single' || !response.body.singleResult.errors) return;
          const requestId = contextValue?.requestId ?? 'unknown';
          response.body.singleResult.errors = response.body.singleResult.errors.map((formatted) =>
            formatted.extensions?.requestId === REQUEST_ID_SLOT
              ? {
                  ...formatted,
                  message: formatted.message.replace(REQUEST_ID_SLOT, requestId),
                  extensions: { ...formatted.extensions, requestId },
                }
              : formatted,
          );
        },
      };
    },
  };
}

/** Refuses an operation over the cost limit once its variables are known, before it runs. */
function queryCostPlugin(schema: GraphQLSchema, limits: QueryLimits): ApolloServerPlugin<RequestContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ request, document, operationName, response }) {
          try {
            assertQueryCost(schema, limits, { document, variables: request.variables, operationName });
          } catch (err) {
            // Refused before it ran, like a validation error: the client's mistake, not a failure.
            response.http.status = 400;
            throw err;
          }
        },
      };
    },
  };
}

/** The websocket's cost check: graphql-ws validates without the variables, so it is done where they are known. */
function costChecked<R>(
  schema: GraphQLSchema,
  limits: QueryLimits,
  run: (args: ExecutionArgs) => R,
): (args: ExecutionArgs) => R | ExecutionResult {
  return (args) => {
    try {
      assertQueryCost(schema, limits, {
        document: args.document,
        variables: args.variableValues,
        operationName: args.operationName,
      });
    } catch (err) {
      if (err instanceof HubError) return { errors: [err] };
      throw err;
    }
    return run(args);
  };
}

/**
 * graphql-ws skips Apollo's plugins and validation rules, so the websocket gets the
 * same authentication, the same query limits and the same error formatting here.
 */
function useGraphqlWs(
  deps: HubDeps,
  pools: RequestPools,
  hub: HubServices,
  schema: GraphQLSchema,
  limits: ValidationRule[],
  wss: WebSocketServer,
  fanout: SubscriptionFanout,
  keySockets: KeySockets,
  websocketLimits: WebsocketLimits,
) {
  type Extra = { principalSecret?: string; connectionId?: string; keyId?: string };
  return useServer<Record<string, unknown> | undefined, Extra>(
    {
      schema,
      validate: (s, document) =>
        validate(s, document, [...specifiedRules, ...limits]).map(asValidationFailure),
      execute: costChecked(schema, deps.config, execute),
      subscribe: costChecked(schema, deps.config, (args) => fanout.subscribe(args)),
      onConnect: async (ctx) => {
        const params = ctx.connectionParams ?? {};
        const secret = bearer(params.Authorization ?? params.authorization) ?? stringOrNull(params.apiKey);
        if (secret === null) {
          await ctx.extra.socket.close(
            4401,
            'Unauthorized: send {"Authorization": "Bearer <key>"} in connection_init',
          );
          return false;
        }
        const principal = await authenticate(pools.channel.em.fork(), secret, {
          adminKey: deps.config.adminKey,
          logger: deps.logger,
        });
        // A socket closed while its key was read would never leave the registry or the counts.
        if (!principal || ctx.extra.socket.readyState !== WebSocket.OPEN) return false;
        if (!websocketLimits.admit(ctx.extra.socket, principal)) return false;
        if (principal.keyId !== ENV_ADMIN_KEY_ID) {
          // Refused if the key was revoked since it was read: the notification came in between.
          if (!keySockets.add(principal.keyId, ctx.extra.socket)) return false;
          ctx.extra.keyId = principal.keyId;
        }
        ctx.extra.principalSecret = secret;
        ctx.extra.connectionId = randomUUID();
        return true;
      },
      onClose: (ctx) => {
        if (ctx.extra.keyId) keySockets.remove(ctx.extra.keyId, ctx.extra.socket);
      },
      onSubscribe: (ctx) =>
        // A socket being closed (revoked key, over a limit) takes no more operations while the client lingers.
        ctx.extra.socket.readyState !== WebSocket.OPEN
          ? [new ForbiddenError('This connection is closing; open a new one.')]
          : websocketLimits.checkSubscribe(ctx.extra.socket, Object.keys(ctx.subscriptions).length),
      context: async (ctx, id, _payload, args) =>
        contextFor(
          deps,
          pools,
          hub,
          await identify(deps, pools, ctx.extra.principalSecret ?? null),
          `${ctx.extra.connectionId}:${id}`,
          getOperationAST(args.document, args.operationName)?.operation ?? null,
          { socket: ctx.extra.socket, id },
        ),
      onNext: (ctx, id, _payload, _args, result) => {
        if (!result.errors) return result;
        const requestId = `${ctx.extra.connectionId}:${id}`;
        logUnexpected(result.errors, requestId, deps.logger);
        return { ...result, errors: result.errors.map((e) => formatHubError(e.toJSON(), e, requestId)) };
      },
      onError: (ctx, id, _payload, errors) => {
        const requestId = `${ctx.extra.connectionId}:${id}`;
        logUnexpected(errors, requestId, deps.logger);
        return errors.map((e) => formatHubError(e.toJSON(), e, requestId));
      },
    },
    wss,
  );
}

/** Marks a refused query as Apollo does on HTTP, so the client gets BAD_USER_INPUT, not an internal error. */
function asValidationFailure(error: GraphQLError): GraphQLError {
  if (error.extensions.code) return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes,
    extensions: { code: 'GRAPHQL_VALIDATION_FAILED' },
  });
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' && value.length > 0 ? value : null;
}
