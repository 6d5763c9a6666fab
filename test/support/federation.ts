import { readFileSync } from 'node:fs';
import { ApolloGateway, RemoteGraphQLDataSource } from '@apollo/gateway';
import { ApolloServer, type ContextFunction } from '@apollo/server';
import { ApolloServerPluginInlineTraceDisabled } from '@apollo/server/plugin/disabled';
import {
  startStandaloneServer,
  type StandaloneServerContextFunctionArgument,
} from '@apollo/server/standalone';
import { buildSubgraphSchema } from '@apollo/subgraph';
import { parse } from 'graphql';

// Shared by the tests and the benchmarks: nothing here imports vitest.

/** docs/crm-subgraph.graphql, seen from test/support (vitest) or from dist/test/support (the compiled benchmarks). */
export const CRM_SDL = readFileSync(
  new URL(
    import.meta.url.endsWith('.ts')
      ? '../../docs/crm-subgraph.graphql'
      : '../../../docs/crm-subgraph.graphql',
    import.meta.url,
  ),
  'utf8',
);

export interface RunningServer {
  url: string;
  stop(): Promise<void>;
}

export interface CrmData {
  /** The segment of the customer of an order, by the hub's order id. */
  segmentOf(orderId: string): string | null;
  reviewsOf(productCode: string): { stars: number; text: string }[];
  /** What `followedUpOrders` answers: order ids. */
  followedUp: string[];
}

/** The example CRM subgraph (docs/crm-subgraph.graphql) over HTTP on a free port, answering from `data`. */
export async function startCrmSubgraph(data: CrmData): Promise<RunningServer> {
  const server = new ApolloServer({
    // A stand-in: no traces, and no line about them on stdout.
    plugins: [ApolloServerPluginInlineTraceDisabled()],
    schema: buildSubgraphSchema({
      typeDefs: parse(CRM_SDL),
      resolvers: {
        Query: { followedUpOrders: () => data.followedUp.map((id) => ({ id })) },
        Order: {
          __resolveReference: (order: { id: string }) => order,
          customerSegment: (order: { id: string }) => data.segmentOf(order.id),
        },
        Product: {
          __resolveReference: (product: { productCode: string }) => product,
          reviews: (product: { productCode: string }) => data.reviewsOf(product.productCode),
        },
      },
    }),
  });
  return listen(server, async () => ({}));
}

interface GatewayContext {
  authorization?: string;
}

/**
 * An Apollo Gateway serving `supergraphSdl` on a free port; each subgraph fetch carries the caller's
 * Authorization header, so the hub applies the caller's key as it would to a direct request.
 */
export async function startGateway(supergraphSdl: string): Promise<RunningServer> {
  const gateway = new ApolloGateway({
    supergraphSdl,
    buildService: ({ url }) =>
      new RemoteGraphQLDataSource<GatewayContext>({
        url,
        willSendRequest({ request, context }) {
          if (context.authorization) request.http?.headers.set('authorization', context.authorization);
        },
      }),
  });
  const server = new ApolloServer<GatewayContext>({ gateway });
  return listen(server, async ({ req }) => ({ authorization: req.headers.authorization }));
}

/** startStandaloneServer on 127.0.0.1 and a free port; `stop` drains and closes it (and the gateway, if one). */
async function listen<T extends object>(
  server: ApolloServer<T>,
  context: ContextFunction<[StandaloneServerContextFunctionArgument], T>,
): Promise<RunningServer> {
  const { url } = await startStandaloneServer(server, { listen: { port: 0, host: '127.0.0.1' }, context });
  return { url, stop: () => server.stop() };
}
