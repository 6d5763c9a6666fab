import { Entity, PrimaryKey, Property } from '@mikro-orm/core';

/**
 * The one access token of a WeChat app, shared by every hub process: fetching a new one invalidates the old
 * one, so it is fetched under this row's lock, by one process, before it expires. Sealed like a credential.
 */
@Entity({ tableName: 'wechat_token' })
export class WechatToken {
  @PrimaryKey({ type: 'string', length: 128 })
  appId!: string;

  @Property({ type: 'text', nullable: true, hidden: true })
  tokenSealed: string | null = null;

  @Property({ type: 'timestamptz', nullable: true })
  expiresAt: Date | null = null;
}
