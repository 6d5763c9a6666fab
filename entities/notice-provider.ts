import { Entity, PrimaryKey, Property, type Opt } from '@mikro-orm/core';

/**
 * A notice provider's account, set by `setNoticeProvider`: SMS (AccessKeyId, the secret, the approved sign
 * name) or WeChat (appId, appSecret). The secret is sealed with the hub's key, bound to this row and field.
 */
@Entity({ tableName: 'notice_provider' })
export class NoticeProviderAccount {
  /** A NoticeProvider. */
  @PrimaryKey({ type: 'string', length: 16 })
  provider!: string;

  /** null: the real gateway (dysmsapi.aliyuncs.com, api.weixin.qq.com). */
  @Property({ type: 'string', length: 512, nullable: true })
  baseUrl: string | null = null;

  /** SMS AccessKeyId, or WeChat appId. */
  @Property({ type: 'string', length: 128 })
  keyId!: string;

  @Property({ type: 'text', hidden: true })
  secretSealed!: string;

  /** SMS only: the approved sender name. */
  @Property({ type: 'string', length: 64, nullable: true })
  signName: string | null = null;

  @Property({ type: 'timestamptz', defaultRaw: 'now()', onUpdate: () => new Date() })
  updatedAt: Opt<Date> = new Date();
}
