import { request as httpRequest, type ClientRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform, Role } from '../../common/enums.js';
import { loadConfig } from '../../server/config.js';
import { seedChannel, seedProduct } from '../support/fixtures.js';
import { graphql, startHubProcess, type HubProcess } from '../support/hub-process.js';
import { ADMIN_KEY, startTestHub, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';
import { deliver, sample } from '../support/webhooks.js';

// A window long enough that every burst below lands in one, however busy the machine: with
// requestsPerSecond=1 a key may send 30 requests per 30 s, and the 31st is refused.
const WINDOW_SECONDS = '30';
const PER_WINDOW = 30;
const LIMITED = {
  RATE_LIMIT_WINDOW_SECONDS: WINDOW_SECONDS,
  RATE_LIMIT_STOREFRONT: 'requestsPerSecond=1,maxConcurrentRequests=none',
  RATE_LIMIT_ANONYMOUS: '1',
};
const PING = '{ __typename }';
const WEBHOOK_SECRET = 'rate-limit-test-webhook-secret-0123456789';

interface Reply {
  status: number;
  retryAfter: string | null;
  body: { data?: unknown; errors?: { message: string; extensions?: Record<string, unknown> }[] };
}

async function post(url: string, key: string | null, query = PING): Promise<Reply> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(key ? { authorization: `Bearer ${key}` } : {}) },
    body: JSON.stringify({ query }),
  });
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: (await response.json()) as Reply['body'],
  };
}

/** `n` requests sent at once. */
const burst = (n: number, send: (i: number) => Promise<Reply>) =>
  Promise.all(Array.from({ length: n }, (_, i) => send(i)));
const limited = (replies: Reply[]) => replies.filter((r) => r.status === 429);

const SET_LIMITS = `mutation($id: ID!, $input: ApiKeyLimitsInput!) {
  setApiKeyLimits(id: $id, input: $input) { id limits { requestsPerSecond maxConcurrentRequests maxWebsocketConnections } }
}`;

describe('per-key rate limits on GraphQL over HTTP', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('security-rate-limits', { env: LIMITED });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    await seedChannel(hub.orm, 'taobao-main', Platform.TAOBAO, { webhookSecret: WEBHOOK_SECRET });
    await seedProduct(hub.orm, 'MILK-1L', 1000);
  });
  afterAll(() => hub?.close());

  it('answers a STOREFRONT key over its rate with 429, Retry-After and RATE_LIMITED; another key is unaffected', async () => {
    const first = await hub.apiKey(Role.STOREFRONT, 'shop');
    const second = await hub.apiKey(Role.STOREFRONT, 'shop');
    const replies = await burst(PER_WINDOW + 5, () => post(hub.url, first));
    expect(replies.filter((r) => r.status === 200)).toHaveLength(PER_WINDOW);
    const refused = limited(replies);
    expect(refused).toHaveLength(5);
    for (const reply of refused) {
      expect(Number(reply.retryAfter)).toBeGreaterThanOrEqual(1);
      expect(reply.body.errors).toEqual([
        {
          message: expect.stringMatching(/over its limit of 1 requests per second/),
          extensions: { code: 'RATE_LIMITED', retryAfterSeconds: Number(reply.retryAfter) },
        },
      ]);
    }
    // The count is the key's: the other key of the same channel and role still gets through.
    expect(await post(hub.url, second)).toMatchObject({
      status: 200,
      body: { data: { __typename: 'Query' } },
    });
  });

  it('does not limit ADMIN or OPS keys by default: 64 concurrent clients all answered', async () => {
    const storefront = await hub.apiKey(Role.STOREFRONT, 'shop');
    const keys = [ADMIN_KEY, await hub.apiKey(Role.ADMIN), await hub.apiKey(Role.OPS)];
    const statuses: number[] = [];
    await Promise.all(
      Array.from({ length: 64 }, async (_, c) => {
        for (let i = 0; i < 10; i++) statuses.push((await post(hub.url, keys[c % keys.length])).status);
      }),
    );
    expect(statuses).toEqual(Array(640).fill(200));
    // The same hub limits a STOREFRONT key after PER_WINDOW requests, far fewer than the 640 above.
    expect(limited(await burst(PER_WINDOW + 5, () => post(hub.url, storefront)))).toHaveLength(5);
  });

  it("applies a key's own limits, set with setApiKeyLimits, from its next request", async () => {
    const storefront = await hub.issueApiKey(Role.STOREFRONT, { channelCode: 'shop' });
    const admin = await hub.issueApiKey(Role.ADMIN);
    const set = await hub.gql<{ setApiKeyLimits: unknown }>(SET_LIMITS, {
      id: storefront.id,
      input: { requestsPerSecond: 2, maxConcurrentRequests: 500 },
    });
    expect(set.data!.setApiKeyLimits).toEqual({
      id: storefront.id,
      // Those not given follow the role (the built-in STOREFRONT default for websockets).
      limits: { requestsPerSecond: 2, maxConcurrentRequests: 500, maxWebsocketConnections: 20 },
    });
    expect(limited(await burst(2 * PER_WINDOW + 5, () => post(hub.url, storefront.secret)))).toHaveLength(5);

    // An ADMIN key is not limited by its role, but can be by its own limits.
    await hub.gql(SET_LIMITS, { id: admin.id, input: { requestsPerSecond: 1 } });
    expect(limited(await burst(PER_WINDOW + 5, () => post(hub.url, admin.secret)))).toHaveLength(5);

    const bad = await hub.gql(SET_LIMITS, { id: admin.id, input: { requestsPerSecond: 0 } });
    expect(bad.errors![0].extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'requestsPerSecond' });
    const notAdmin = await hub.gql(SET_LIMITS, { id: admin.id, input: {} }, await hub.apiKey(Role.OPS));
    expect(notAdmin.errors![0].extensions!.code).toBe('FORBIDDEN');
  });

  it('limits requests in flight per key, and frees the slot when a request answers', async () => {
    const connector = await hub.issueApiKey(Role.CONNECTOR, { channelCode: 'shop' });
    await hub.gql(SET_LIMITS, {
      id: connector.id,
      input: { requestsPerSecond: 1000, maxConcurrentRequests: 2 },
    });
    // Two requests whose bodies are still on their way: in flight until the client finishes them.
    const held = [holdOpen(hub.url, connector.secret), holdOpen(hub.url, connector.secret)];
    try {
      // The hub counts them once it has their headers: until then a third request may pass.
      const refusals: Reply[] = [];
      await waitFor(async () => {
        const reply = await post(hub.url, connector.secret);
        if (reply.status === 429) refusals.push(reply);
        return refusals.length > 0;
      }, 'a request beside the two in flight to be refused');
      const [refused] = refusals;
      expect(refused.retryAfter).toBe('1');
      expect(refused.body.errors![0].extensions).toEqual({ code: 'RATE_LIMITED', retryAfterSeconds: 1 });
      expect(refused.body.errors![0].message).toMatch(/2 requests in flight/);
    } finally {
      for (const h of held) h.finish();
    }
    expect(await Promise.all(held.map((h) => h.answered))).toEqual([200, 200]);
    expect((await post(hub.url, connector.secret)).status).toBe(200);
  });

  it('limits requests without a valid key by IP address, but never webhooks or health routes', async () => {
    const base = hub.url.replace(/\/graphql$/, '');
    const deliveries = await burst(PER_WINDOW + 5, (i) => {
      const payload = sample('taobao');
      const tid = `99872166551904${String(i).padStart(5, '0')}`;
      payload.tid_str = tid;
      payload.tid = Number(tid);
      return deliver(base, 'taobao-main', payload, { secret: WEBHOOK_SECRET }).then((r) => ({
        status: r.status,
        retryAfter: null,
        body: {},
      }));
    });
    expect(deliveries.filter((r) => r.status !== 200)).toEqual([]);
    const health = await burst(PER_WINDOW + 5, async () => {
      const response = await fetch(`${base}/healthz`);
      return { status: response.status, retryAfter: null, body: {} };
    });
    expect(limited(health)).toEqual([]);
    const keyless = await burst(PER_WINDOW + 5, () => post(hub.url, null));
    expect(limited(keyless)).toHaveLength(5);
    expect(limited(keyless)[0].body.errors![0].message).toMatch(/without a valid API key/);
  });
});

/** A POST whose body is sent only when `finish` is called. */
function holdOpen(url: string, key: string) {
  const body = JSON.stringify({ query: PING });
  let req!: ClientRequest;
  const answered = new Promise<number>((resolve, reject) => {
    req = httpRequest(
      url,
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          authorization: `Bearer ${key}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode!));
      },
    );
    req.on('error', reject);
  });
  req.write(body.slice(0, 5));
  return {
    answered,
    finish: () => req.end(body.slice(5)),
  };
}

describe.skipIf(!process.env.REDIS_URL)(
  'two hub processes share the limit through Redis (REDIS_URL set)',
  () => {
    let hub: TestHub;
    let other: HubProcess | undefined;

    beforeAll(async () => {
      const env = { ...LIMITED, REDIS_URL: process.env.REDIS_URL! };
      hub = await startTestHub('security-rate-limits-redis', { env });
      other = await startHubProcess(hub.database.url, {
        HOST: '127.0.0.1',
        SWEEP_INTERVAL_SECONDS: '0',
        ...env,
      });
      await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
    });
    afterAll(async () => {
      await other?.stop();
      await hub?.close();
    });

    it('counts a key once across both processes', async () => {
      const created = (await graphql(
        other!.base,
        other!.adminKey,
        `
          mutation {
            createApiKey(role: STOREFRONT, label: "two", channelCode: "shop") {
              secret
            }
          }
        `,
      )) as { createApiKey: { secret: string } };
      const key = created.createApiKey.secret;
      const urls = [hub.url, `${other!.base}/graphql`];
      const replies = await burst(PER_WINDOW + 5, (i) => post(urls[i % 2], key));
      // Each process alone would allow PER_WINDOW: together they allow PER_WINDOW.
      expect(limited(replies)).toHaveLength(5);
    });
  },
);

describe('RATE_LIMIT_* settings', () => {
  it('limit STOREFRONT, CONNECTOR and ANALYST keys by default, not ADMIN or OPS', () => {
    const { byRole, anonymousPerSecond, windowSeconds } = loadConfig({}).rateLimits;
    for (const role of [Role.ADMIN, Role.OPS])
      expect(Object.values(byRole[role]), role).toEqual(Array(5).fill(null));
    for (const role of [Role.STOREFRONT, Role.CONNECTOR, Role.ANALYST])
      expect(
        Object.values(byRole[role]).every((n) => typeof n === 'number' && n > 0),
        role,
      ).toBe(true);
    expect([anonymousPerSecond, windowSeconds]).toEqual([20, 1]);
  });

  it('change the limits they name, lift them with none, and name a bad entry', () => {
    const { byRole } = loadConfig({
      RATE_LIMIT_STOREFRONT: 'requestsPerSecond=5, maxWebsocketConnections=none',
      RATE_LIMIT_OPS: 'maxConcurrentRequests=100',
    }).rateLimits;
    expect(byRole.STOREFRONT).toMatchObject({ requestsPerSecond: 5, maxWebsocketConnections: null });
    expect(byRole.STOREFRONT.maxConcurrentRequests).toBe(
      loadConfig({}).rateLimits.byRole.STOREFRONT.maxConcurrentRequests,
    );
    expect(byRole.OPS).toMatchObject({ requestsPerSecond: null, maxConcurrentRequests: 100 });
    expect(() => loadConfig({ RATE_LIMIT_ANALYST: 'requestsPerMinute=5' })).toThrow(
      /RATE_LIMIT_ANALYST: "requestsPerMinute" is not a limit/,
    );
    expect(() => loadConfig({ RATE_LIMIT_CONNECTOR: 'requestsPerSecond=0' })).toThrow(
      /RATE_LIMIT_CONNECTOR: requestsPerSecond must be a whole number from 1/,
    );
    expect(() => loadConfig({ RATE_LIMIT_ANONYMOUS: 'lots' })).toThrow(
      /RATE_LIMIT_ANONYMOUS must be a whole number/,
    );
    expect(() => loadConfig({ RATE_LIMIT_WINDOW_SECONDS: '0' })).toThrow(/RATE_LIMIT_WINDOW_SECONDS/);
  });
});
