import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedChannel, seedOrder } from '../support/fixtures.js';
import { errorCodes, startTestHub, wsExecute, type TestHub } from '../support/hub.js';
import { tableLocker } from '../support/locks.js';
import { waitFor } from '../support/wait.js';

const BODY_BYTES = 1000;

/**
 * Sends a request's headers, then its body one byte every 20 ms (20 s for the whole body), and
 * answers what the server said and how much of the body it had sent when the server cut it off.
 */
function trickle(url: string): Promise<{ reply: string; bytesSent: number }> {
  const { hostname, port, pathname } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    let reply = '';
    let bytesSent = 0;
    let timer: NodeJS.Timeout | undefined;
    socket.on('connect', () => {
      socket.write(
        `POST ${pathname} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: ${BODY_BYTES}\r\n\r\n`,
      );
      timer = setInterval(() => {
        if (bytesSent < BODY_BYTES && socket.writable) {
          socket.write(' ');
          bytesSent++;
        }
      }, 20);
    });
    socket.on('data', (chunk) => (reply += chunk.toString()));
    socket.on('error', () => undefined); // a reset after the 408 is the server cutting us off
    socket.on('close', () => {
      clearInterval(timer);
      resolve({ reply, bytesSent });
    });
    socket.setTimeout(60_000, () => reject(new Error('the server never cut the slow client off')));
  });
}

describe('a client that sends its request slowly is cut off', () => {
  let hub: TestHub;
  let locker: Awaited<ReturnType<typeof tableLocker>>;

  beforeAll(async () => {
    hub = await startTestHub('security-slow-clients', { env: { REQUEST_TIMEOUT_MS: '500' } });
    await seedOrder(hub.orm, { channel: await seedChannel(hub.orm, 'shop'), externalId: 'S1' });
    locker = await tableLocker(hub.database.url);
  });

  afterAll(async () => {
    await locker.end();
    await hub.close();
  });

  it('answers 408 and closes the connection before the trickled body is complete', async () => {
    const { reply, bytesSent } = await trickle(hub.url);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(bytesSent).toBeLessThan(BODY_BYTES);
  });

  it('does not cut a request whose answer takes longer than the request timeout', async () => {
    // An ADMIN request that waits on a lock while a slow client is timed out beside it.
    await locker.lock('order');
    const slowAnswer = hub.gql<{ orders: { totalCount: number } }>('{ orders { totalCount } }');
    await waitFor(
      async () => (await locker.waiting('order-hub-staff-requests')) > 0,
      'the request to wait on the lock',
    );
    const { reply } = await trickle(hub.url);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    await locker.release();

    const answer = await slowAnswer;
    expect(errorCodes(answer)).toEqual([]);
    expect(answer.data!.orders.totalCount).toBe(1);
  });
});

describe('websockets are not timed like HTTP requests', () => {
  let hub: TestHub;

  beforeAll(async () => {
    hub = await startTestHub('security-slow-clients-ws', {
      env: { REQUEST_TIMEOUT_MS: '300', CONNECTION_TIMEOUT_MS: '300' },
    });
  });

  afterAll(() => hub.close());

  it('keeps a silent websocket open past both the request and the connection timeout', async () => {
    let closed = false;
    const ws = hub.wsClient(undefined, { onClose: () => (closed = true) });
    expect(errorCodes(await wsExecute(ws, '{ channels { code } }'))).toEqual([]);
    // The slow client is cut after the timeouts; the websocket said nothing all that time.
    const { reply } = await trickle(hub.url);
    expect(reply).toMatch(/^HTTP\/1\.1 408/);
    expect(closed).toBe(false);
    expect(errorCodes(await wsExecute(ws, '{ channels { code } }'))).toEqual([]);
  });
});
