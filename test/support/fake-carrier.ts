import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * Kuaidi100's real-time tracking query (`POST /poll/query.do`) as the hub reaches it: an HTTP server on
 * 127.0.0.1 that checks each request as the service does (a form of customer, sign and param; the customer;
 * the sign recomputed here as upper-case MD5 of param + key + customer; `com` and `num` in param) and answers
 * the parcels it was given, in Kuaidi100's reply shape. A wrong signature is answered as Kuaidi100 does,
 * HTTP 200 with `returnCode` 503. It can be made to fail (HTTP 500, or hang without answering) and recover,
 * and to hold its answers until a number of requests are in flight at once (proof that they were sent
 * together).
 */

export interface FakeTrackingEvent {
  /** Asia/Shanghai local time, "YYYY-MM-DD HH:mm:ss". */
  time: string;
  /** Kuaidi100's state of the event (`resultv2=1`): 揽收, 在途, 派件, 签收, 疑难… */
  status: string;
  context: string;
}

export interface FakeCarrierCall {
  com: string | null;
  num: string | null;
  phone: string | null;
  /** The returnCode or HTTP status it was answered with; `ok` for a parcel's events. */
  answer: string;
}

export interface FakeCarrier {
  /** The query URL (…/poll/query.do). */
  url: string;
  customer: string;
  key: string;
  /** Every request that reached the fake, in arrival order. */
  calls: FakeCarrierCall[];
  /** The events the carrier reports for a parcel (`com` is Kuaidi100's company code). */
  setParcel(com: string, num: string, events: FakeTrackingEvent[]): void;
  /** From now on every request fails this way, until `fail(null)`. */
  fail(mode: 'error500' | 'hang' | null): void;
  /** The next `n` requests are answered only once all `n` have arrived. */
  holdUntil(n: number): void;
  close(): Promise<void>;
}

/** A time as Kuaidi100 writes it: Asia/Shanghai local (UTC+8), to the second. */
export function shanghaiTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');
}

export async function startFakeCarrier(
  customer = 'FAKE-CUSTOMER-01',
  key = 'fake-kuaidi100-key-0123',
): Promise<FakeCarrier> {
  const calls: FakeCarrierCall[] = [];
  const parcels = new Map<string, FakeTrackingEvent[]>();
  let failure: 'error500' | 'hang' | null = null;
  let held: { size: number; waiting: (() => void)[] } | null = null;
  const json = (res: ServerResponse, status: number, body: unknown) =>
    res.writeHead(status, { 'content-type': 'application/json;charset=UTF-8' }).end(JSON.stringify(body));
  const refuse = (res: ServerResponse, call: FakeCarrierCall, returnCode: string, message: string) => {
    call.answer = returnCode;
    json(res, 200, { result: false, returnCode, message });
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const call: FakeCarrierCall = { com: null, num: null, phone: null, answer: '' };
      calls.push(call);
      const answer = () => {
        if (req.method !== 'POST' || new URL(req.url ?? '/', 'http://fake').pathname !== '/poll/query.do') {
          call.answer = '404';
          return json(res, 404, { message: 'not found' });
        }
        if (!req.headers['content-type']?.startsWith('application/x-www-form-urlencoded'))
          return refuse(res, call, '400', '参数不完整');
        const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
        const param = form.get('param');
        if (!param || !form.get('sign') || !form.get('customer'))
          return refuse(res, call, '400', '参数不完整');
        const expected = createHash('md5')
          .update(param + key + customer, 'utf8')
          .digest('hex')
          .toUpperCase();
        if (form.get('customer') !== customer || form.get('sign') !== expected)
          return refuse(res, call, '503', '验证签名失败');
        let query: { com?: unknown; num?: unknown; phone?: unknown };
        try {
          query = JSON.parse(param) as typeof query;
        } catch {
          return refuse(res, call, '400', '参数不完整');
        }
        call.com = typeof query.com === 'string' ? query.com : null;
        call.num = typeof query.num === 'string' ? query.num : null;
        call.phone = typeof query.phone === 'string' ? query.phone : null;
        if (!call.com || !call.num || call.com !== call.com.toLowerCase())
          return refuse(res, call, '400', '参数不完整');
        if (failure === 'error500') {
          call.answer = '500';
          return json(res, 500, { message: 'internal error' });
        }
        if (failure === 'hang') {
          call.answer = 'hang';
          return;
        }
        const events = parcels.get(`${call.com}\n${call.num}`);
        if (!events) return refuse(res, call, '500', '查询无结果，请隔段时间再查');
        call.answer = 'ok';
        const delivered = events.some((e) => e.status === '签收');
        json(res, 200, {
          message: 'ok',
          nu: call.num,
          ischeck: delivered ? '1' : '0',
          condition: 'F00',
          com: call.com,
          status: '200',
          state: delivered ? '3' : '0',
          data: events.map((e) => ({ ...e, ftime: e.time, location: '', areaCode: null, areaName: null })),
        });
      };
      if (!held) return answer();
      const gate = held;
      gate.waiting.push(answer);
      if (gate.waiting.length === gate.size) {
        held = null;
        for (const go of gate.waiting) go();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/poll/query.do`,
    customer,
    key,
    calls,
    setParcel: (com, num, events) => parcels.set(`${com}\n${num}`, events),
    fail: (mode) => {
      failure = mode;
    },
    holdUntil: (n) => {
      held = { size: n, waiting: [] };
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
