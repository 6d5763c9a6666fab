import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/**
 * A merchant's system as the hub's webhooks reach it: an HTTP server on 127.0.0.1 that verifies every request
 * with the `standardwebhooks` verifier (signature, and a timestamp within 5 minutes) against the secrets it is
 * given, and keeps what it received. It can be told how to answer the next requests: a status, or no answer.
 */

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  type: string;
  /** The body as parsed. */
  payload: { type: string; timestamp: string; data: Record<string, any> };
  body: string;
  /** Which of the receiver's secrets verified it (their indexes); empty: none did. */
  verifiedBy: number[];
  /** What the receiver answered. */
  answered: number | 'no answer';
}

export type Answer = number | 'hang';

export interface WebhookReceiver {
  url: string;
  /** Every request, in arrival order (unverified ones too). */
  received: ReceivedWebhook[];
  /** Requests answered 2xx, in arrival order. */
  accepted(): ReceivedWebhook[];
  /** Secrets to verify with (a rotation adds one). */
  secrets: string[];
  /** How to answer from now on; the default is 200. */
  answer(how: Answer | ((request: ReceivedWebhook) => Answer)): void;
  close(): Promise<void>;
}

export async function startWebhookReceiver(secrets: string[] = []): Promise<WebhookReceiver> {
  const received: ReceivedWebhook[] = [];
  const hanging = new Set<ServerResponse>();
  let how: Answer | ((request: ReceivedWebhook) => Answer) = 200;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      const verifiedBy = receiver.secrets.flatMap((secret, i) => {
        try {
          new Webhook(secret).verify(body, headers);
          return [i];
        } catch {
          return [];
        }
      });
      let payload: ReceivedWebhook['payload'];
      try {
        payload = JSON.parse(body) as ReceivedWebhook['payload'];
      } catch {
        payload = { type: '(not JSON)', timestamp: '', data: {} };
      }
      const request: ReceivedWebhook = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        type: payload.type,
        payload,
        body,
        verifiedBy,
        answered: 200,
      };
      received.push(request);
      const answer = verifiedBy.length ? (typeof how === 'function' ? how(request) : how) : 401;
      if (answer === 'hang') {
        request.answered = 'no answer';
        hanging.add(res);
        res.on('close', () => hanging.delete(res));
        return;
      }
      request.answered = answer;
      res
        .writeHead(answer, { 'content-type': 'text/plain' })
        .end(answer < 300 ? 'ok' : `failing with ${answer}`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const receiver: WebhookReceiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    received,
    accepted: () => received.filter((r) => typeof r.answered === 'number' && r.answered < 300),
    secrets,
    answer(next) {
      how = next;
    },
    async close() {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return receiver;
}
