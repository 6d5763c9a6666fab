import 'reflect-metadata';
import { lexicographicSortSchema, printSchema, type GraphQLSchema } from 'graphql';
import { buildSchema, type AuthChecker, type PubSub } from 'type-graphql';
import { resolvers } from '../resolvers/index.js';
import '../schema/enums.js';
import type { Role } from '../common/enums.js';
import { DateTimeScalar } from '../schema/scalars.js';
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

let built: Promise<GraphQLSchema> | undefined;

/** The served schema, built once per process from the resolvers. */
export function hubSchema(): Promise<GraphQLSchema> {
  built ??= buildSchema({
    resolvers,
    authChecker,
    scalarsMap: [{ type: Date, scalar: DateTimeScalar }],
    validate: false,
    pubSub: noTopicBus,
  });
  return built;
}

export function printHubSchema(schema: GraphQLSchema): string {
  return printSchema(lexicographicSortSchema(schema)) + '\n';
}
