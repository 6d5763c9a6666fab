import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSecretKey, SecretBox } from '../../services/secret-box.js';
import { wechatToken, type FetchToken, type WechatAccount } from '../../services/notices/wechat.js';
import { TEST_SECRET_KEY } from '../support/hub-process.js';
import { startTestHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

// The WeChat token is one per app, shared by every hub process: a new one ends the old one, so only one
// process may fetch at a time (the row's lock), the others take what it stored.

const ACCOUNT: WechatAccount = { baseUrl: 'http://unused', appId: 'wx-app', appSecret: 'secret' };

describe('the shared WeChat token', () => {
  let hub: TestHub;
  const pools: pg.Pool[] = [];
  const box = new SecretBox(parseSecretKey(TEST_SECRET_KEY)!);

  beforeAll(async () => {
    hub = await startTestHub('wechat-token');
    // As two hub processes: two pools of their own.
    for (let i = 0; i < 2; i++) pools.push(new pg.Pool({ connectionString: hub.database.url, max: 4 }));
  });

  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await hub?.close();
  });

  it('is fetched once for many asking at once, kept sealed, and fetched again only when called stale', async () => {
    let fetches = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fetchToken: FetchToken = async () => {
      fetches++;
      // The first fetch waits until every other caller is queued behind the row lock.
      await gate;
      return { token: `token-${fetches}`, expiresInSeconds: 7200 };
    };
    const asks = Array.from({ length: 6 }, (_, i) => wechatToken(pools[i % 2], box, ACCOUNT, fetchToken));
    const waiting = async () => {
      const { rows } = await pools[0].query<{ n: number }>(
        `select count(*)::int as n from pg_locks l join pg_stat_activity a using (pid)
          where not l.granted and a.datname = current_database()`,
      );
      return rows[0].n;
    };
    await waitFor(async () => (await waiting()) >= 5, 'the other five queued behind the first');
    release();
    expect(await Promise.all(asks)).toEqual(Array(6).fill('token-1'));
    expect(fetches).toBe(1);

    const { rows } = await pools[0].query<{ token_sealed: string }>('select token_sealed from wechat_token');
    expect(rows[0].token_sealed).toMatch(/^v1:/);
    expect(rows[0].token_sealed).not.toContain('token-1');

    // WeChat called token-1 invalid: a new one, once, and the others then use it.
    expect(await wechatToken(pools[1], box, ACCOUNT, fetchToken, 'token-1')).toBe('token-2');
    expect(await wechatToken(pools[0], box, ACCOUNT, fetchToken, 'token-1')).toBe('token-2');
    expect(fetches).toBe(2);
  });
});
