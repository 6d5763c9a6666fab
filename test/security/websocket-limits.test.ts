import type { Client } from 'graphql-ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Platform, Role } from '../../common/enums.js';
import { seedChannel } from '../support/fixtures.js';
import { errorCodes, startTestHub, wsExecute, type TestHub } from '../support/hub.js';
import { waitFor } from '../support/wait.js';

// websocketMessagesPerSecond=1 over a 30 s window: 30 messages per window for one websocket.
const MESSAGES_PER_WINDOW = 30;
const ENV = {
  RATE_LIMIT_WINDOW_SECONDS: '30',
  RATE_LIMIT_STOREFRONT:
    'maxWebsocketConnections=2,maxSubscriptionsPerConnection=2,websocketMessagesPerSecond=1',
};
const INVENTORY = `subscription($code: String) { inventoryChanged(productCode: $code) { productCode } }`;

describe('per-key limits on websockets', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('security-websocket-limits', { env: ENV });
    await seedChannel(hub.orm, 'shop', Platform.STOREFRONT);
  });
  afterAll(() => hub?.close());

  /** A graphql-ws client of `key`; resolves once acknowledged, or with the close code it got instead. */
  async function connect(
    key: string,
  ): Promise<{ client: Client; closed: { code: number; reason: string }[] }> {
    const closed: { code: number; reason: string }[] = [];
    const client = hub.wsClient(key, { onClose: (code, reason) => closed.push({ code, reason }) });
    let connected = false;
    client.on('connected', () => (connected = true));
    await waitFor(() => connected || closed.length > 0, 'the websocket to be acknowledged or closed');
    return { client, closed };
  }

  it('refuses a websocket over its key’s maximum with 4429, and lets one in again when another closes', async () => {
    const key = await hub.apiKey(Role.STOREFRONT, 'shop');
    const open = [await connect(key), await connect(key)];
    expect(open.map((c) => c.closed)).toEqual([[], []]);
    const third = await connect(key);
    expect(third.closed).toEqual([{ code: 4429, reason: 'Too many connections for this API key' }]);
    // Another key of the same role has its own count.
    expect((await connect(await hub.apiKey(Role.STOREFRONT, 'shop'))).closed).toEqual([]);

    await open[0].client.dispose();
    await waitFor(
      async () => (await connect(key)).closed.length === 0,
      'a websocket of the key to be let in once one of its two closed',
    );
  });

  it('answers a subscribe over the per-connection maximum with RATE_LIMITED', async () => {
    const { client } = await connect(await hub.apiKey(Role.STOREFRONT, 'shop'));
    const errors: unknown[][] = [];
    const subscribe = () =>
      client.subscribe(
        { query: INVENTORY },
        { next: () => undefined, error: (err) => errors.push(err as unknown[]), complete: () => undefined },
      );
    subscribe();
    const second = subscribe();
    subscribe();
    await waitFor(() => errors.length > 0, 'the third subscription to be refused');
    expect(errors).toEqual([
      [
        expect.objectContaining({
          message: expect.stringMatching(/has 2 operations open/),
          extensions: expect.objectContaining({ code: 'RATE_LIMITED', retryAfterSeconds: 1 }),
        }),
      ],
    ]);
    // Completing one makes room for another operation (a query counts while it runs).
    second();
    await waitFor(
      async () => errorCodes(await wsExecute(client, '{ __typename }')).length === 0,
      'an operation to be accepted once a subscription completed',
    );
  });

  it('closes a websocket that floods its messages with 4429', async () => {
    const key = await hub.apiKey(Role.STOREFRONT, 'shop');
    const socket = new WebSocket(hub.wsUrl, 'graphql-transport-ws');
    const closed = new Promise<{ code: number; reason: string }>((resolve) =>
      socket.once('close', (code, reason) => resolve({ code, reason: reason.toString() })),
    );
    try {
      await new Promise((resolve) => socket.once('open', resolve));
      const acked = new Promise((resolve) => socket.once('message', resolve));
      socket.send(JSON.stringify({ type: 'connection_init', payload: { Authorization: `Bearer ${key}` } }));
      await acked;
      let pongs = 0;
      socket.on('message', () => pongs++);
      // Counted from the acknowledgement: MESSAGES_PER_WINDOW pings are within the limit, the next is not.
      for (let i = 0; i < MESSAGES_PER_WINDOW + 5; i++) socket.send(JSON.stringify({ type: 'ping' }));
      expect(await closed).toEqual({ code: 4429, reason: 'Too many messages for this API key' });
      expect(pongs).toBeLessThanOrEqual(MESSAGES_PER_WINDOW);
    } finally {
      socket.terminate();
    }
  });
});
