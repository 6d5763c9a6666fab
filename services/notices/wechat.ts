import type pg from 'pg';
import type { Sealer } from '../secret-box.js';

/**
 * WeChat mini-program subscribe messages: the access token, one per app in the database and shared by every
 * hub process (fetching a new one invalidates the old one after a short overlap, so two processes fetching
 * at once would each break the other's), and what a send's `errcode` means.
 */

export const WECHAT_DEFAULT_BASE_URL = 'https://api.weixin.qq.com';

/** A token this close to its expiry is fetched again before it is used. */
const REFRESH_BEFORE_SECONDS = 300;

export interface WechatAccount {
  baseUrl: string;
  appId: string;
  appSecret: string;
}

export function tokenAad(appId: string): string {
  return `wechat-token:${appId}`;
}

/** GETs a new token from WeChat; throws with WeChat's errmsg when it answers none. */
export type FetchToken = (account: WechatAccount) => Promise<{ token: string; expiresInSeconds: number }>;

/**
 * The app's token: the stored one while it is fresh (and is not `stale`, the one WeChat just called invalid),
 * else a new one, fetched under the row's lock so that one process fetches while the others wait for it.
 */
export async function wechatToken(
  pool: pg.Pool,
  sealer: Pick<Sealer, 'seal' | 'open'>,
  account: WechatAccount,
  fetchToken: FetchToken,
  stale: string | null = null,
): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query('begin');
    await client.query('insert into wechat_token (app_id) values ($1) on conflict do nothing', [
      account.appId,
    ]);
    const { rows } = await client.query<{ token_sealed: string | null; fresh: boolean }>(
      `select token_sealed, coalesce(expires_at > now() + $2 * interval '1 second', false) as fresh
         from wechat_token where app_id = $1 for update`,
      [account.appId, REFRESH_BEFORE_SECONDS],
    );
    const row = rows[0];
    if (row?.token_sealed && row.fresh) {
      const token = sealer.open(row.token_sealed, tokenAad(account.appId));
      if (token !== stale) {
        await client.query('commit');
        return token;
      }
    }
    const fetched = await fetchToken(account);
    await client.query(
      `update wechat_token set token_sealed = $2, expires_at = now() + $3 * interval '1 second' where app_id = $1`,
      [account.appId, sealer.seal(fetched.token, tokenAad(account.appId)), fetched.expiresInSeconds],
    );
    await client.query('commit');
    return fetched.token;
  } catch (err) {
    await client.query('rollback').catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

export type WechatVerdict =
  | { kind: 'sent'; messageId: string | null }
  /** 40001 / 42001: the token is invalid or expired; a new one, and one more try. */
  | { kind: 'token'; message: string }
  /** 43101: the user has no subscription left for this template; not the hub's error, not retried. */
  | { kind: 'unsubscribed'; message: string }
  | { kind: 'refused'; message: string };

export function wechatVerdict(reply: {
  errcode?: unknown;
  errmsg?: unknown;
  msgid?: unknown;
}): WechatVerdict {
  const code = typeof reply.errcode === 'number' ? reply.errcode : Number(reply.errcode ?? 0);
  const message = `${code}: ${typeof reply.errmsg === 'string' ? reply.errmsg : ''}`.trim();
  if (code === 0) return { kind: 'sent', messageId: reply.msgid === undefined ? null : String(reply.msgid) };
  if (code === 40001 || code === 42001) return { kind: 'token', message };
  if (code === 43101) return { kind: 'unsubscribed', message };
  return { kind: 'refused', message };
}
