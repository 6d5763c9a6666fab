import { Arg, Authorized, Ctx, FieldResolver, ID, Mutation, Resolver, Root } from 'type-graphql';
import type { ApiKey } from '../entities/index.js';
import { ApiKeyLimitsInput, ApiKeyLimitsType, ApiKeyType, CreatedApiKeyType } from '../schema/access.js';
import { Role } from '../common/enums.js';
import { createApiKey, keyLimits, revokeApiKey, setApiKeyLimits } from '../services/api-keys.js';
import type { RequestContext } from '../services/context.js';
import { ADMIN_ONLY } from './roles.js';

@Resolver(() => ApiKeyType)
export class ApiKeyResolver {
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
  @Mutation(() => Boolean)
  revokeApiKey(@Ctx() ctx: RequestContext, @Arg('id', () => ID) id: string) {
    return revokeApiKey(ctx, id);
  }

  @Authorized(ADMIN_ONLY)
  @Mutation(() => ApiKeyType, {
    description: "Replaces the key's own limits; they apply from its next request.",
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
