import { Field, Float, InputType, Int, ObjectType } from 'type-graphql';
import { ChannelStockState } from '../common/enums.js';
import { ChannelType } from './channel.js';
import { DateTimeScalar } from './scalars.js';

@ObjectType('ChannelApi', {
  description:
    "A channel's platform API settings (ADMIN only). The secrets are write-only: only whether one is set.",
})
export class ChannelApiType {
  @Field(() => String, {
    nullable: true,
    description: "Where pushes go: the one set, or the platform's real gateway when none is.",
  })
  baseUrl!: string | null;
  @Field(() => Boolean, {
    description: "True when no baseUrl was set: pushes go to the platform's real gateway.",
  })
  defaultGateway!: boolean;
  @Field(() => String, { nullable: true }) appKey!: string | null;
  @Field(() => String, { nullable: true }) shopId!: string | null;
  @Field(() => String, { nullable: true }) signMethod!: string | null;
  @Field(() => Float, { nullable: true, description: "Calls per second; null: the platform's default." })
  requestsPerSecond!: number | null;
  @Field(() => Int, { description: 'Changes within this window after the first are pushed as one number.' })
  pushDelayMs!: number;
  @Field(() => Boolean) hasAppSecret!: boolean;
  @Field(() => Boolean) hasAccessToken!: boolean;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@InputType('ChannelApiInput', {
  description:
    'A field left out keeps what is stored; null clears it. Which credentials a platform needs: docs/stock-sync.md.',
})
export class ChannelApiInput {
  @Field(() => String, {
    nullable: true,
    description:
      "An http(s) URL (a test platform, a proxy) with no user, password, query or fragment; null: the platform's real gateway.",
  })
  baseUrl?: string | null;
  @Field(() => String, { nullable: true }) appKey?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only: stored sealed, never returned.' })
  appSecret?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only: stored sealed, never returned.' })
  accessToken?: string | null;
  @Field(() => String, { nullable: true, description: "Youzan's kdt_id, Shopify's shop name." })
  shopId?: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'Taobao: md5, hmac, hmac-sha256; Kuaishou: MD5, HMAC_SHA256.',
  })
  signMethod?: string | null;
  @Field(() => Float, { nullable: true, description: "Above 0, at most 1000; null: the platform's default." })
  requestsPerSecond?: number | null;
  @Field(() => Int, { nullable: true, description: '0 to 60000; null (or never set): 1000.' })
  pushDelayMs?: number | null;
}

@ObjectType('ChannelStockSync', { description: "Where a channel's listings stand." })
export class ChannelStockSyncType {
  @Field(() => Boolean) enabled!: boolean;
  @Field(() => Int, { description: 'Platform SKUs mapped to products on this channel.' }) listings!: number;
  @Field(() => Int, { description: 'Listings waiting for a push (PENDING or THROTTLED).' }) pending!: number;
  @Field(() => Int) failed!: number;
  @Field(() => Float, {
    nullable: true,
    description: 'How long the longest-waiting listing has waited; null when none waits.',
  })
  oldestPendingSeconds!: number | null;
}

@ObjectType('ChannelStock', {
  description: 'One listing: a platform SKU of a channel and the number it should show.',
})
export class ChannelStockType {
  @Field(() => ChannelType) channel!: ChannelType;
  @Field(() => String) productCode!: string;
  @Field(() => String) platformSkuId!: string;
  @Field(() => String, { nullable: true }) platformItemId!: string | null;
  @Field(() => String, { nullable: true, description: "Shopify's location." }) locationId!: string | null;
  @Field(() => Int, {
    description:
      'What the platform should show now: available if the product is open on the channel, else 0; never above the cap.',
  })
  target!: number;
  @Field(() => Int, { nullable: true, description: 'What the platform last acknowledged.' }) confirmed!:
    number | null;
  @Field(() => DateTimeScalar, { nullable: true }) confirmedAt!: Date | null;
  @Field(() => ChannelStockState) state!: ChannelStockState;
  @Field(() => String, { nullable: true, description: "The platform's message when a push failed." })
  lastError!: string | null;
  @Field(() => Int, { nullable: true, description: 'At most this many units are shown on the channel.' })
  cap!: number | null;
}
