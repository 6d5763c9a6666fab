import { Arg, Authorized, Ctx, FieldResolver, ID, Int, Mutation, Query, Resolver, Root } from 'type-graphql';
import type { ApiKey } from '../entities/index.js';
import {
  ApiKeyConnectionType,
  ApiKeyLimitsInput,
  ApiKeyLimitsType,
  ApiKeyType,
  CreatedApiKeyType,
} from '../schema/access.js';
import { Role } from '../common/enums.js';
import { createApiKey, keyLimits, listApiKeys, revokeApiKey, setApiKeyLimits } from '../services/api-keys.js';
import type { RequestContext } from '../services/context.js';
import { ADMIN_ONLY } from './roles.js';

@Resolver(() => ApiKeyType)
export class ApiKeyResolver {
  @Authorized(ADMIN_ONLY)
  @Query(() => ApiKeyConnectionType, {
    description:
      'Stored keys, newest first, without their secrets; HUB_ADMIN_KEY is not stored, so not listed.',
  })
  apiKeys(
    @Ctx() ctx: RequestContext,
    @Arg('includeRevoked', () => Boolean, { defaultValue: false }) includeRevoked: boolean,
    @Arg('role', () => Role, { nullable: true }) role: Role | null,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
    @Arg('first', () => Int, { nullable: true, defaultValue: 50 }) first: number | null,
    @Arg('after', () => String, { nullable: true }) after: string | null,
  ) {
    return listApiKeys(ctx, { includeRevoked, role, channelCode, first, after });
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => CreatedApiKeyType, { description: 'The secret is shown once.' })
  createApiKey(
    @Ctx() ctx: RequestContext,
    @Arg('role', () => Role) role: Role,
    @Arg('label', () => String) label: string,
    @Arg('channelCode', () => String, { nullable: true }) channelCode: string | null,
  ) {
    return createApiKey(ctx, { role, label, channelCode });
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => Boolean, {
    description: "Closes the key's open websockets on every hub process, and refuses its next request.",
  })
  revokeApiKey(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return revokeApiKey(ctx, id);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ApiKeyType, {
    description:
      "Replaces the key's own limits: from its next request and its next websocket (open ones keep the limits they connected with).",
  })
  setApiKeyLimits(
    @Ctx() ctx: RequestContext,
    @Arg('id', () => ID) id: string,
    @Arg('input', () => ApiKeyLimitsInput) input: ApiKeyLimitsInput,
  ) {
    return setApiKeyLimits(ctx, id, input);
  }

  @FieldResolver(() => ApiKeyLimitsType, {
    description: "The limits the key works under: its own, and its role's default for the rest.",
  })
  limits(@Root() key: ApiKey, @Ctx() ctx: RequestContext) {
    return keyLimits(ctx, key);
  }

  @FieldResolver(() => String, { nullable: true })
  async channelCode(@Root() key: ApiKey, @Ctx() ctx: RequestContext) {
    return key.channel ? (await ctx.loaders.channelById.load(key.channel.id))?.code : null;
  }
}
