import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * WeChat's API host as the hub reaches it for subscribe messages: `/cgi-bin/token` hands out tokens (a new one
 * ends the one before), `/cgi-bin/message/subscribe/send` checks the token and the value limits of each key
 * type (thing ≤ 20, character_string ≤ 32, phrase ≤ 5 characters) and keeps the message. Cues: `43101` (no
 * subscription left) and `42001` (the token expired: it is then no longer valid) for the next sends.
 */

export interface SentWechat {
  touser: string;
  template_id: string;
  page?: string;
  data: Record<string, { value: string }>;
}

export interface FakeWechat {
  url: string;
  appId: string;
  appSecret: string;
  /** Tokens handed out, in turn. */
  tokensIssued: string[];
  /** Every send, with the errcode it was answered. */
  sends: { body: SentWechat; errcode: number }[];
  sent: SentWechat[];
  cue(...errcodes: number[]): void;
  close(): Promise<void>;
}

const LIMITS: Record<string, number> = { thing: 20, character_string: 32, phrase: 5 };

export async function startFakeWechat(
  appId = 'wx-test-app',
  appSecret = 'wechat-test-secret',
): Promise<FakeWechat> {
  const tokensIssued: string[] = [];
  const sends: FakeWechat['sends'] = [];
  const sent: SentWechat[] = [];
  const cues: number[] = [];
  let valid: string | null = null;
  const json = (res: ServerResponse, body: unknown) =>
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (req.method === 'GET' && url.pathname === '/cgi-bin/token') {
        const q = url.searchParams;
        if (
          q.get('grant_type') !== 'client_credential' ||
          q.get('appid') !== appId ||
          q.get('secret') !== appSecret
        ) {
          return json(res, { errcode: 40013, errmsg: 'invalid appid or secret' });
        }
        valid = `token-${tokensIssued.length + 1}`;
        tokensIssued.push(valid);
        return json(res, { access_token: valid, expires_in: 7200 });
      }
      if (req.method === 'POST' && url.pathname === '/cgi-bin/message/subscribe/send') {
        let body: SentWechat;
        try {
          body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as SentWechat;
        } catch {
          return json(res, { errcode: 47001, errmsg: 'data format error' });
        }
        const reply = (errcode: number, errmsg: string, extra: Record<string, unknown> = {}) => {
          sends.push({ body, errcode });
          json(res, { errcode, errmsg, ...extra });
        };
        if (!valid || url.searchParams.get('access_token') !== valid) {
          return reply(40001, 'invalid credential, access_token is invalid or not latest');
        }
        for (const [key, { value }] of Object.entries(body.data ?? {})) {
          const max = LIMITS[key.replace(/\d+$/, '')];
          if (max !== undefined && [...value].length > max)
            return reply(47003, `argument invalid! data.${key}.value`);
        }
        const cued = cues.shift();
        if (cued === 42001) {
          valid = null;
          return reply(42001, 'access_token expired');
        }
        if (cued !== undefined) return reply(cued, 'fake: cued');
        sent.push(body);
        return reply(0, 'ok', { msgid: 1000 + sent.length });
      }
      res.writeHead(404).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    appId,
    appSecret,
    tokensIssued,
    sends,
    sent,
    cue: (...codes) => cues.push(...codes),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
