import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedChannel } from './support/fixtures.js';
import { ADMIN_KEY, errorCodes, startTestHub, type TestHub } from './support/hub.js';

describe('the HTTP side of the hub', () => {
  let hub: TestHub;
  const logLines: string[] = [];
  const base = () => hub.url.replace(/\/graphql$/, '');

  beforeAll(async () => {
    hub = await startTestHub('server', { logLines });
    await seedChannel(hub.orm, 'shop');
  });

  afterAll(() => hub.close());

  it('answers /healthz while the process is up and /readyz while the database answers', async () => {
    expect(await (await fetch(`${base()}/healthz`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${base()}/readyz`);
    expect(ready.status).toBe(200);
  });

  it('tags every reply with a request id, taking the caller’s own when it sends a sane one', async () => {
    const given = await fetch(`${base()}/healthz`, { headers: { 'x-request-id': 'trace-123' } });
    expect(given.headers.get('x-request-id')).toBe('trace-123');
    const made = await fetch(`${base()}/healthz`, { headers: { 'x-request-id': 'bad id; with spaces' } });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('hides an unexpected failure behind INTERNAL_SERVER_ERROR and logs it with the request id', async () => {
    await hub.orm.em.getConnection().execute('alter table channel rename to channel_gone');
    try {
      const response = await fetch(hub.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
        body: JSON.stringify({ query: '{ channels { code } }' }),
      });
      const body = (await response.json()) as {
        errors: { message: string; extensions: Record<string, string> }[];
      };
      const requestId = response.headers.get('x-request-id')!;
      expect(body.errors[0].extensions).toEqual({ code: 'INTERNAL_SERVER_ERROR', requestId });
      expect(body.errors[0].message).toContain(requestId);
      expect(JSON.stringify(body)).not.toMatch(/select|channel_gone|relation|stack|at /i);
      const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
      expect(logged.some((l) => l.requestId === requestId && l.msg === 'unexpected error' && l.err)).toBe(
        true,
      );
    } finally {
      await hub.orm.em.getConnection().execute('alter table channel_gone rename to channel');
    }
  });

  it('answers a refused operation with its code, and does not log it as unexpected', async () => {
    const response = await fetch(hub.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_KEY}` },
      body: JSON.stringify({
        query: `{ salesReport(from: "2026-02-01T00:00:00Z", to: "2026-01-01T00:00:00Z", groupBy: DAY) { key } }`,
      }),
    });
    const body = (await response.json()) as { errors: { message: string; extensions: unknown }[] };
    expect(body.errors).toEqual([
      expect.objectContaining({
        message: 'from must not be after to.',
        extensions: { code: 'BAD_USER_INPUT', field: 'from' },
      }),
    ]);
    const requestId = response.headers.get('x-request-id');
    const logged = logLines.map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged.filter((l) => l.requestId === requestId && (l.level as number) >= 50)).toEqual([]);
  });

  it('answers malformed requests with a clear 4xx and stays healthy', async () => {
    const post = (body: string, type = 'application/json') =>
      fetch(hub.url, {
        method: 'POST',
        headers: { 'content-type': type, authorization: `Bearer ${ADMIN_KEY}` },
        body,
      });
    expect((await post('{"query": ')).status).toBe(400);
    expect((await post('x'.repeat(3 * 1024 * 1024))).status).toBe(413);
    const deep = '['.repeat(5000) + ']'.repeat(5000);
    expect(
      (await post(`{"query": "{ channels { code } }", "variables": {"x": ${deep}}}`)).status,
    ).toBeLessThan(500);
    const syntax = await post(JSON.stringify({ query: '{ channels { code ' }));
    expect(errorCodes((await syntax.json()) as never)).toEqual(['BAD_USER_INPUT']);
    const unknownField = await post(JSON.stringify({ query: '{ channels { secret } }' }));
    expect(errorCodes((await unknownField.json()) as never)).toEqual(['BAD_USER_INPUT']);
    expect((await fetch(`${base()}/healthz`)).status).toBe(200);
  });

  it('never exposes a channel’s webhook secret', async () => {
    await hub.gql(
      `mutation { upsertChannel(input: {code: "shopify-eu", platform: SHOPIFY, name: "EU", webhookSecret: "s3cr3t-value-0123456789abcdef01234"}) { id } }`,
    );
    const response = await hub.gql(`{ channels { code name } }`);
    expect(JSON.stringify(response)).not.toContain('s3cr3t-value');
    const introspection = await hub.gql(`{ __type(name: "Channel") { fields { name } } }`);
    expect(JSON.stringify(introspection)).not.toContain('webhookSecret');
  });
});

describe('readiness when the database goes away', () => {
  it('answers /readyz with 503 while /healthz stays up', async () => {
    const hub = await startTestHub('readiness');
    const base = hub.url.replace(/\/graphql$/, '');
    try {
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      await hub.database.drop();
      expect((await fetch(`${base}/readyz`)).status).toBe(503);
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
    } finally {
      await hub.close();
    }
  });
});
