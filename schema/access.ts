import { Field, ID, InputType, Int, ObjectType } from 'type-graphql';
import { Role } from '../common/enums.js';
import { PageInfoType } from './order.js';
import { DateTimeScalar } from './scalars.js';

@ObjectType('ApiKey')
export class ApiKeyType {
  @Field(() => ID) id!: string;
  @Field(() => Role) role!: Role;
  @Field(() => String, {
    nullable: true,
    description: 'STOREFRONT and CONNECTOR keys are bound to one channel.',
  })
  channelCode!: string | null;
  @Field(() => String) label!: string;
  @Field(() => DateTimeScalar) createdAt!: Date;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When the key last authenticated, to the minute; null if never.',
  })
  lastUsedAt!: Date | null;
  @Field(() => DateTimeScalar, { nullable: true, description: 'Null while the key works.' })
  revokedAt!: Date | null;
}

@ObjectType('ApiKeyEdge')
export class ApiKeyEdgeType {
  @Field(() => String) cursor!: string;
  @Field(() => ApiKeyType) node!: ApiKeyType;
}

@ObjectType('ApiKeyConnection')
export class ApiKeyConnectionType {
  @Field(() => [ApiKeyEdgeType]) edges!: ApiKeyEdgeType[];
  @Field(() => PageInfoType) pageInfo!: PageInfoType;
  @Field(() => Int) totalCount!: number;
}

@ObjectType('CreatedApiKey')
export class CreatedApiKeyType {
  @Field(() => ApiKeyType) apiKey!: ApiKeyType;
  @Field(() => String, { description: 'The secret, shown this once: only its hash is stored.' })
  secret!: string;
}

@ObjectType('ApiKeyLimits', { description: 'What a key may use; null: not limited.' })
export class ApiKeyLimitsType {
  @Field(() => Int, { nullable: true, description: 'GraphQL requests over HTTP per second.' })
  requestsPerSecond!: number | null;
  @Field(() => Int, { nullable: true, description: 'GraphQL requests over HTTP in flight at once.' })
  maxConcurrentRequests!: number | null;
  @Field(() => Int, { nullable: true, description: 'Websockets open at once.' })
  maxWebsocketConnections!: number | null;
  @Field(() => Int, { nullable: true, description: 'Operations open at once on one websocket.' })
  maxSubscriptionsPerConnection!: number | null;
  @Field(() => Int, { nullable: true, description: 'Messages one websocket may send per second.' })
  websocketMessagesPerSecond!: number | null;
}

@InputType('ApiKeyLimitsInput', {
  description: "A key's own limits, from 1 up; one left out or null follows the key's role.",
})
export class ApiKeyLimitsInput {
  @Field(() => Int, { nullable: true }) requestsPerSecond?: number | null;
  @Field(() => Int, { nullable: true }) maxConcurrentRequests?: number | null;
  @Field(() => Int, { nullable: true }) maxWebsocketConnections?: number | null;
  @Field(() => Int, { nullable: true }) maxSubscriptionsPerConnection?: number | null;
  @Field(() => Int, { nullable: true }) websocketMessagesPerSecond?: number | null;
}
