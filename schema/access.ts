import { Field, ID, Int, ObjectType } from 'type-graphql';
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
