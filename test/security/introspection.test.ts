import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { errorCodes, startTestHub, wsExecute, type TestHub } from '../support/hub.js';

/**
 * Introspection and the IDE (Apollo's landing page) are on by default, for development, and one
 * setting, GRAPHQL_INTROSPECTION=false, turns both off for production, on HTTP and websocket alike.
 */

const INTROSPECT = `{ __schema { queryType { name } } }`;

/** What a browser opening the GraphQL URL gets. */
async function landingPage(hub: TestHub): Promise<{ status: number; type: string; body: string }> {
  const response = await fetch(hub.url, { headers: { accept: 'text/html' } });
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

describe('by default (development)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub('security introspection on');
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('answers introspection over HTTP and over the websocket', async () => {
    expect((await hub.gql(INTROSPECT)).data).toEqual({ __schema: { queryType: { name: 'Query' } } });
    const ws = await wsExecute(hub.wsClient(), INTROSPECT);
    expect(ws.data).toEqual({ __schema: { queryType: { name: 'Query' } } });
  });

  it('serves the IDE to a browser', async () => {
    const page = await landingPage(hub);
    expect(page.status).toBe(200);
    expect(page.type).toMatch(/^text\/html/);
    expect(page.body).toMatch(/<html/i);
  });
});

describe('with GRAPHQL_INTROSPECTION=false (production)', () => {
  let hub: TestHub;
  beforeAll(async () => {
    hub = await startTestHub('security introspection off', { env: { GRAPHQL_INTROSPECTION: 'false' } });
  });
  afterAll(async () => {
    await hub?.close();
  });

  it('refuses introspection over HTTP with BAD_USER_INPUT, and reveals no schema', async () => {
    const res = await hub.gql(INTROSPECT);
    expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.data ?? null).toBeNull();
    const typeQuery = await hub.gql(`{ __type(name: "Order") { fields { name } } }`);
    expect(errorCodes(typeQuery)).toEqual(['BAD_USER_INPUT']);
  });

  it('refuses introspection over the websocket too', async () => {
    const res = await wsExecute(hub.wsClient(), INTROSPECT);
    expect(errorCodes(res).length).toBeGreaterThan(0);
    expect(new Set(errorCodes(res))).toEqual(new Set(['BAD_USER_INPUT']));
    expect(res.data ?? null).toBeNull();
  });

  it('serves no IDE', async () => {
    const page = await landingPage(hub);
    expect(page.type).not.toMatch(/html/);
    expect(page.body).not.toMatch(/<html/i);
  });

  it('refuses the subgraph SDL (_service) as it refuses introspection, and still answers _entities', async () => {
    const res = await hub.gql(`{ _service { sdl } }`);
    expect(errorCodes(res)).toEqual(['BAD_USER_INPUT']);
    expect(res.data ?? null).toBeNull();
    const ws = await wsExecute(hub.wsClient(), `{ _service { sdl } }`);
    expect(errorCodes(ws)).toEqual(['BAD_USER_INPUT']);
    const entities = await hub.gql(
      `{ _entities(representations: [{ __typename: "Product", productCode: "NONE" }]) { __typename } }`,
    );
    expect(entities).toEqual({ data: { _entities: [null] } });
  });

  it('still answers ordinary queries, __typename included', async () => {
    const res = await hub.gql(`{ __typename channels { code } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ __typename: 'Query', channels: [] });
  });
});
