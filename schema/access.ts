import { Field, ID, ObjectType } from 'type-graphql';
import { Role } from '../common/enums.js';
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
}

@ObjectType('CreatedApiKey')
export class CreatedApiKeyType {
  @Field(() => ApiKeyType) apiKey!: ApiKeyType;
  @Field(() => String, { description: 'The secret, shown this once: only its hash is stored.' })
  secret!: string;
}
