import { createHmac } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Alibaba Cloud SMS `SendSms` as the hub reaches it: an HTTP server on 127.0.0.1 that checks every request as
 * the service does (the common parameters, a nonce used once, and the RPC signature, computed here on its own
 * from the documented rules) and answers `SignatureDoesNotMatch` to a wrong one. The next answers can be cued
 * (`Throttling.User`, `isv.BUSINESS_LIMIT_CONTROL`, …); otherwise it answers OK and keeps the message.
 */

export interface SentSms {
  phone: string;
  signName: string;
  templateCode: string;
  params: Record<string, string>;
  outId: string;
}

export interface FakeSms {
  url: string;
  accessKeyId: string;
  accessKeySecret: string;
  /** Every request, with the Code it was answered. */
  requests: { params: Record<string, string>; code: string }[];
  /** Messages answered OK. */
  sent: SentSms[];
  /** The next requests are answered with these codes, in turn. */
  cue(...codes: string[]): void;
  close(): Promise<void>;
}

/** RFC 3986, as the SMS signature documentation spells it out. */
function encode(value: string): string {
  let out = '';
  for (const byte of Buffer.from(value, 'utf8')) {
    const c = String.fromCharCode(byte);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

function expectedSignature(method: string, params: Record<string, string>, secret: string): string {
  const canonical = Object.keys(params)
    .filter((name) => name !== 'Signature')
    .sort()
    .map((name) => `${encode(name)}=${encode(params[name])}`)
    .join('&');
  const stringToSign = `${method}&${encode('/')}&${encode(canonical)}`;
  return createHmac('sha1', `${secret}&`).update(stringToSign).digest('base64');
}

const REQUIRED = {
  Action: 'SendSms',
  Format: 'JSON',
  RegionId: 'cn-hangzhou',
  SignatureMethod: 'HMAC-SHA1',
  SignatureVersion: '1.0',
  Version: '2017-05-25',
};

export async function startFakeSms(
  accessKeyId = 'LTAI-test-key',
  accessKeySecret = 'sms-test-secret',
): Promise<FakeSms> {
  const requests: FakeSms['requests'] = [];
  const sent: SentSms[] = [];
  const cues: string[] = [];
  const nonces = new Set<string>();
  const answer = (res: ServerResponse, status: number, code: string, extra: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(
      JSON.stringify({
        Code: code,
        Message: code === 'OK' ? 'OK' : `fake: ${code}`,
        RequestId: 'req',
        ...extra,
      }),
    );
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      const form = req.method === 'POST' ? Buffer.concat(chunks).toString('utf8') : url.search.slice(1);
      const params = Object.fromEntries(new URLSearchParams(form));
      const record = (code: string) => requests.push({ params, code });
      const missing = Object.entries(REQUIRED).find(([name, value]) => params[name] !== value);
      if (missing) {
        record('MissingParameter');
        return answer(res, 400, 'MissingParameter');
      }
      if (params.AccessKeyId !== accessKeyId) {
        record('InvalidAccessKeyId.NotFound');
        return answer(res, 404, 'InvalidAccessKeyId.NotFound');
      }
      if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(params.Timestamp ?? '')) {
        record('InvalidTimeStamp.Format');
        return answer(res, 400, 'InvalidTimeStamp.Format');
      }
      if (params.Signature !== expectedSignature(req.method ?? 'GET', params, accessKeySecret)) {
        record('SignatureDoesNotMatch');
        return answer(res, 400, 'SignatureDoesNotMatch');
      }
      if (!params.SignatureNonce || nonces.has(params.SignatureNonce)) {
        record('SignatureNonceUsed');
        return answer(res, 400, 'SignatureNonceUsed');
      }
      nonces.add(params.SignatureNonce);
      const cued = cues.shift();
      if (cued) {
        record(cued);
        return answer(res, 200, cued);
      }
      let templateParams: Record<string, string>;
      try {
        templateParams = JSON.parse(params.TemplateParam ?? '{}') as Record<string, string>;
      } catch {
        record('isv.INVALID_JSON_PARAM');
        return answer(res, 200, 'isv.INVALID_JSON_PARAM');
      }
      if (!/^1\d{10}$/.test(params.PhoneNumbers ?? '')) {
        record('isv.MOBILE_NUMBER_ILLEGAL');
        return answer(res, 200, 'isv.MOBILE_NUMBER_ILLEGAL');
      }
      record('OK');
      sent.push({
        phone: params.PhoneNumbers,
        signName: params.SignName,
        templateCode: params.TemplateCode,
        params: templateParams,
        outId: params.OutId,
      });
      answer(res, 200, 'OK', { BizId: `biz-${sent.length}` });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accessKeyId,
    accessKeySecret,
    requests,
    sent,
    cue: (...codes) => cues.push(...codes),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
