import { Field, InputType, Int, ObjectType } from 'type-graphql';
import { NoticeProvider, NoticeStatus, NoticeStep } from '../common/enums.js';
import { DateTimeScalar, JSONScalar } from './scalars.js';

@ObjectType('Notice', {
  description: 'One step of an order told to its customer by SMS or WeChat, or why not.',
})
export class NoticeType {
  @Field(() => NoticeStep) step!: string;
  @Field(() => NoticeProvider, { nullable: true, description: 'null until chosen, or when none could be.' })
  provider!: string | null;
  @Field(() => NoticeStatus) status!: string;
  @Field(() => DateTimeScalar, { description: 'When the order reached the step.' }) reachedAt!: Date;
  @Field(() => DateTimeScalar, { nullable: true }) sentAt!: Date | null;
  @Field(() => String, {
    nullable: true,
    description: 'Why it was skipped or failed, or the last refusal before a retry.',
  })
  error!: string | null;
  @Field(() => String, {
    nullable: true,
    description: 'The contact, masked: `138****1234`, or the openid shortened.',
  })
  contactMasked!: string | null;
  @Field(() => String, { nullable: true }) templateCode!: string | null;
  @Field(() => Int) attemptCount!: number;
  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'When it is tried next: a retry, or 08:00 for a HELD SMS.',
  })
  nextAttemptAt!: Date | null;
}

@ObjectType('NoticeTemplate')
export class NoticeTemplateType {
  @Field(() => NoticeStep) step!: string;
  @Field(() => NoticeProvider) provider!: string;
  @Field(() => String, { description: 'SMS TemplateCode or WeChat template_id.' }) templateCode!: string;
  @Field(() => JSONScalar, { description: 'Variable name → text with placeholders.' }) params!: unknown;
  @Field(() => Boolean, { description: 'SMS sent in quiet hours too.' }) urgent!: boolean;
  @Field(() => String, { nullable: true, description: 'WeChat: the mini-program page opened.' })
  page!: string | null;
}

@ObjectType('NoticeProviderSettings', { description: "A provider's account; the secret is never shown." })
export class NoticeProviderSettingsType {
  @Field(() => NoticeProvider) provider!: string;
  @Field(() => String, { nullable: true, description: 'null: the real gateway.' }) baseUrl!: string | null;
  @Field(() => String, { description: 'SMS AccessKeyId or WeChat appId.' }) keyId!: string;
  @Field(() => String, { nullable: true, description: 'SMS: the approved sign name.' })
  signName!: string | null;
  @Field(() => Boolean) hasSecret!: boolean;
  @Field(() => DateTimeScalar) updatedAt!: Date;
}

@InputType('NoticeProviderInput', {
  description:
    'SMS: accessKeyId, accessKeySecret, signName. WeChat: appId, appSecret. A secret left out keeps the stored one; baseUrl left out is the real gateway.',
})
export class NoticeProviderInput {
  @Field(() => String, { nullable: true }) baseUrl?: string | null;
  @Field(() => String, { nullable: true }) accessKeyId?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only: stored sealed.' })
  accessKeySecret?: string | null;
  @Field(() => String, { nullable: true }) signName?: string | null;
  @Field(() => String, { nullable: true }) appId?: string | null;
  @Field(() => String, { nullable: true, description: 'Write-only: stored sealed.' })
  appSecret?: string | null;
}

@InputType('ChannelNoticesInput', { description: 'A field left out keeps what is stored.' })
export class ChannelNoticesInput {
  @Field(() => String, { nullable: true, description: 'IANA time zone; quiet hours are read in it.' })
  timeZone?: string | null;
  @Field(() => [NoticeStep], { nullable: true, description: 'null: the default four.' })
  steps?: NoticeStep[] | null;
}
