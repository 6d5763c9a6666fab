import 'reflect-metadata';
import { buildSubgraphSchema } from '@apollo/subgraph';
import type { GraphQLResolverMap } from '@apollo/subgraph/dist/schema-helper/resolverMap.js';
import { printSchemaWithDirectives } from '@graphql-tools/utils';
import {
  executeSync,
  lexicographicSortSchema,
  parse,
  printSchema,
  type GraphQLSchema,
  type ValidationRule,
} from 'graphql';
import { buildSchema, createResolversMap, type AuthChecker, type PubSub } from 'type-graphql';
import { resolvers } from '../resolvers/index.js';
import { referenceResolvers } from '../resolvers/references.js';
import '../schema/enums.js';
import type { Role } from '../common/enums.js';
import { DateTimeScalar } from '../schema/scalars.js';
import { BadUserInputError } from '../common/errors.js';
import { assertRole } from '../services/access.js';
import type { RequestContext } from '../services/context.js';

/** `@Authorized(roles)`: no key is UNAUTHENTICATED, a key of another role FORBIDDEN. */
const authChecker: AuthChecker<RequestContext, Role> = ({ context }, roles) => {
  assertRole(context, roles);
  return true;
};

/** Every subscription brings its own `subscribe`; type-graphql still asks for a topic bus, which nothing uses. */
const noTopicBus: PubSub = {
  publish() {
    throw new Error('Subscriptions publish through subscriptions/, not type-graphql topics.');
  },
  subscribe() {
    throw new Error('Subscriptions subscribe through subscriptions/, not type-graphql topics.');
  },
};

/**
 * Makes the schema an Apollo Federation 2 subgraph: the entities are the types marked `@key` in schema/.
 * Only `@key` is imported: the hub owns every field it serves and extends no other subgraph's type.
 */
const FEDERATION_LINK =
  'extend schema @link(url: "https://specs.apollo.dev/federation/v2.3", import: ["@key"])';

let built: Promise<GraphQLSchema> | undefined;

/**
 * The served schema, built once per process from the resolvers: the hub's own fields, and `_service` and
 * `_entities` for a federation router, on the same endpoint.
 */
export function hubSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    pubSub: noTopicBus,
  }).then(asSubgraph);
  return built;
}

/** The type-graphql schema printed with its `@key`s and built again by @apollo/subgraph, with the same resolvers. */
function asSubgraph(schema: GraphQLSchema): GraphQLSchema {
  const resolverMap: Record<string, object> = createResolversMap(schema);
  for (const [typeName, reference] of Object.entries(referenceResolvers)) {
    resolverMap[typeName] = { ...resolverMap[typeName], ...reference };
  }
  return buildSubgraphSchema({
    typeDefs: parse(`${FEDERATION_LINK}\n${printSchemaWithDirectives(schema)}`),
    // type-graphql's map and @apollo/subgraph's are the same shape, typed apart; @apollo/subgraph's type has no
    // room for __resolveReference, which it reads all the same.
    resolvers: resolverMap as GraphQLResolverMap<unknown>,
  });
}

export function printHubSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}

/** What `_service { sdl }` answers (asked, so that it is the same text): the SDL a router composes. */
export function printHubSubgraph(schema: GraphQLSchema): string {
  const { data } = executeSync({ schema, document: parse('{ _service { sdl } }') });
  return (data as { _service: { sdl: string } })._service.sdl + '\n';
}

/**
 * With introspection off (GRAPHQL_INTROSPECTION=false), `_service { sdl }` is refused as introspection is: it is
 * the same schema. A supergraph is then composed from schema/subgraph.graphql, published with each release.
 */
export const NoSubgraphSdlRule: ValidationRule = (context) => ({
  Field(node) {
    if (node.name.value === '_service' && context.getParentType() === context.getSchema().getQueryType()) {
      context.reportError(
        new BadUserInputError(
          'The subgraph SDL (_service) is not served where introspection is off: compose from schema/subgraph.graphql.',
        ),
      );
    }
  },
});
