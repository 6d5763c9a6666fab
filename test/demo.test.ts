import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Platform } from '../common/enums.js';
import { connectorFor } from '../connectors/index.js';
import { CHANNELS, HOT_PRODUCT, planDay, SCENE, usualOrders } from '../demo/day-plan.js';
import { dialects, signedPush, type DemoOrder } from '../demo/platforms.js';
import { runDemo, type DemoSummary } from '../demo/run.js';
import type { DemoSettings } from '../demo/settings.js';
import { signatureValid } from '../server/webhook-signature.js';
import { createTestDatabase } from './support/database.js';
import { graphql, startHubProcess, type HubProcess } from './support/hub-process.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const MAIN = fileURLToPath(new URL('../dist/demo/main.js', import.meta.url));
const CARRIER_SECRET = 'sf-carrier-secret-0123456789abcdef0123';
const NON_CORE = CHANNELS.filter((c) => !c.isCore)
  .map((c) => c.code)
  .sort();

/** Demo processes started by the tests, killed after them if still running. */
const children: ChildProcess[] = [];

/** The compiled `npm run demo` with these arguments; its exit code and output once it has exited. */
function demoProcess(args: string[], onStdout: (text: string) => void = () => {}) {
  const { HUB_ADMIN_KEY: _key, CARRIER_WEBHOOK_SECRETS: _secrets, ...env } = process.env;
  const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    onStdout(output);
  });
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = once(child, 'exit').then(([code]) => ({ code: code as number | null, output }));
  return { child, exited };
}

describe('the demo’s day', () => {
  it('has a quiet night, a busier morning and an evening peak, the same every time it is planned', () => {
    const { orders } = planDay(1500, 1);
    const between = (from: number, to: number) =>
      orders.filter((o) => !o.live && o.minute >= from * 60 && o.minute < to * 60).length;
    expect(between(2, 6)).toBeLessThan(between(9, 13) / 5);
    expect(between(9, 13)).toBeLessThan(between(19, 23));
    expect(planDay(1500, 1)).toEqual(planDay(1500, 1));
  });
});

describe('each platform’s push in the demo', () => {
  const order: DemoOrder = {
    externalId: '1234560000042',
    customerName: '王小明',
    phone: '13800000001',
    province: '浙江省',
    city: '杭州市',
    district: '西湖区',
    street: '文三路 100 号',
    lines: [{ productCode: 'DEMO-TEA-250G', name: '明前龙井 250g', quantity: 2, unitPriceFen: 9900 }],
    placedAt: new Date('2026-12-04T12:00:00.000Z'),
    paidAt: null,
  };

  it.each(Object.values(Platform))(
    '%s: is read by its connector as the order the demo made, signed as its platform signs',
    (platform) => {
      const unpaid = signedPush(platform, order, 'a-channel-webhook-secret-0123456789abcdef');
      const paidAt = new Date('2026-12-04T12:03:00.000Z');
      const paid = signedPush(platform, { ...order, paidAt }, 'a-channel-webhook-secret-0123456789abcdef');
      const connector = connectorFor(platform);

      const read = connector.toOrder(JSON.parse(paid.body));
      expect(read).toMatchObject({
        externalId: order.externalId,
        status: 'PAID',
        customerName: expect.any(String),
        total: '198.00',
        currencyCode: 'CNY',
        placedAt: order.placedAt,
        lines: [{ productCode: 'DEMO-TEA-250G', quantity: 2, unitPrice: '99.00', lineTotal: '198.00' }],
      });
      if (dialects[platform].pushesUnpaid)
        expect(connector.toOrder(JSON.parse(unpaid.body)).status).toBe('PENDING_PAYMENT');
      expect(
        signatureValid(
          dialects[platform].signature,
          'a-channel-webhook-secret-0123456789abcdef',
          Buffer.from(paid.body),
          paid.headers,
        ),
      ).toBe(true);
    },
  );
});

describe('npm run demo against a running hub', () => {
  let db: { url: string; drop(): Promise<void> };
  let hub: HubProcess;
  let summary: DemoSummary;
  const lines: string[] = [];
  const settings = (): DemoSettings => ({
    url: hub.base,
    key: hub.adminKey,
    minutes: 0.1,
    orders: 100,
    concurrency: 8,
    seed: 1,
    carrier: { code: 'sf', secret: CARRIER_SECRET },
    holdWaitSeconds: 20,
  });
  const count = async (filter: Record<string, unknown>) => {
    const data = (await graphql(
      hub.base,
      hub.adminKey,
      `
        query ($filter: OrderFilter) {
          orders(first: 1, filter: $filter) {
            totalCount
          }
        }
      `,
      { filter },
    )) as { orders: { totalCount: number } };
    return data.orders.totalCount;
  };

  beforeAll(async () => {
    db = await createTestDatabase('demo');
    hub = await startHubProcess(db.url, {
      // Holds run out within the day, and the sweeper finds them at once.
      RESERVATION_TTL_SECONDS: '2',
      SWEEP_INTERVAL_SECONDS: '1',
      CARRIER_WEBHOOK_SECRETS: `sf=${CARRIER_SECRET}`,
    });
    summary = await runDemo(settings(), {
      out: (line) => lines.push(line),
      signal: new AbortController().signal,
    });
  });

  afterAll(async () => {
    for (const child of children)
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await hub?.stop();
    await db?.drop();
  });

  it('runs the whole day without a failure, a progress line per simulated hour', () => {
    expect(summary.errors).toEqual([]);
    expect(summary.interrupted).toBe(false);
    expect(lines.filter((line) => /^\d\d:00-\d\d:00 /.test(line))).toHaveLength(24);
    expect(lines).toContain('Summary of the day:');
  });

  it('brings orders from every channel, through their signed webhooks', async () => {
    for (const channel of CHANNELS) {
      expect(summary.channels[channel.code].orders, channel.code).toBeGreaterThan(0);
      expect(await count({ channelCodes: [channel.code] }), channel.code).toBe(
        summary.channels[channel.code].orders,
      );
    }
  });

  it('shows the Douyin live stream as a spike in its hour, and a silent Kuaishou afternoon', () => {
    const douyin = summary.perHour['demo-douyin'];
    const { from, to, multiplier } = SCENE.liveStream;
    const usual =
      (usualOrders(
        100,
        CHANNELS.find((c) => c.code === 'demo-douyin')!,
        20,
      ) *
        (to - from)) /
      60;
    expect(summary.channels['demo-douyin'].liveStream).toBeGreaterThanOrEqual(Math.floor(multiplier * usual));
    expect(multiplier).toBeGreaterThanOrEqual(10);
    expect(douyin[20]).toBeGreaterThanOrEqual(3 * Math.max(douyin[19], douyin[21], 1));
    expect(summary.perHour['demo-kuaishou'].slice(13, 16)).toEqual([0, 0, 0]);
  });

  it('pays, packs, ships and delivers orders, with the carrier’s signed scans', async () => {
    expect(await count({ statuses: ['PAID'] })).toBeGreaterThan(0);
    expect(await count({ statuses: ['SHIPPED'] })).toBeGreaterThan(0);
    expect(await count({ statuses: ['DELIVERED'] })).toBeGreaterThan(0);
    const delivered = Object.values(summary.channels).reduce((sum, c) => sum + c.delivered, 0);
    expect(delivered).toBeGreaterThan(0);
  });

  it('leaves some orders unpaid until their holds run out, and the storefront’s are cancelled', async () => {
    expect(summary.holdsExpired).toBeGreaterThan(0);
    expect(summary.paymentTimeouts).toBeGreaterThan(0);
    expect(await count({ channelCodes: ['demo-shop'], statuses: ['CANCELLED'] })).toBe(
      summary.paymentTimeouts,
    );
  });

  it('sells the hot product out, which closes the non-core channels, and the restock reopens them', async () => {
    const kinds = summary.alerts.filter((a) => a.productCode === HOT_PRODUCT).map((a) => a.kind);
    const closed = summary.alerts.find((a) => a.kind === 'LOW_STOCK');
    const reopened = summary.alerts.find((a) => a.kind === 'RESTOCKED');
    expect(closed?.channelsClosed.sort()).toEqual(NON_CORE.sort());
    expect(reopened?.channelsReopened.sort()).toEqual(NON_CORE.sort());
    expect(kinds.indexOf('LOW_STOCK')).toBeLessThan(kinds.indexOf('RESTOCKED'));
    expect(kinds).toContain('OUT_OF_STOCK');
    const data = (await graphql(
      hub.base,
      hub.adminKey,
      `{ product(productCode: "${HOT_PRODUCT}") { closedOnChannels } }`,
    )) as { product: { closedOnChannels: string[] } };
    expect(data.product.closedOnChannels).toEqual([]);
  });

  it('runs again on the same hub, reusing its channels and products', async () => {
    const again = await runDemo(
      { ...settings(), minutes: 0.01, orders: 10, holdWaitSeconds: 0 },
      { out: () => {}, signal: new AbortController().signal },
    );
    expect(again.errors).toEqual([]);
    const data = (await graphql(
      hub.base,
      hub.adminKey,
      `
        {
          channels {
            code
          }
          products {
            productCode
          }
        }
      `,
    )) as {
      channels: { code: string }[];
      products: { productCode: string }[];
    };
    expect(data.channels.map((c) => c.code).sort()).toEqual(CHANNELS.map((c) => c.code).sort());
    expect(data.products).toHaveLength(6);
  });

  it('stops on Ctrl-C with the summary so far', async () => {
    let interrupted = false;
    const demo = demoProcess(
      ['--url', hub.base, '--key', hub.adminKey, '--minutes', '1', '--orders', '10'],
      (output) => {
        // Once: a second Ctrl-C ends the demo at once, as it ends any program.
        if (!interrupted && output.includes('Set up ')) interrupted = demo.child.kill('SIGINT');
      },
    );
    const { code, output } = await demo.exited;
    expect(code).toBe(130);
    expect(output).toContain('Interrupted: letting the requests under way finish.');
    expect(output).toContain('Summary (interrupted):');
  });

  it('stops with what it did when the hub stops answering', async () => {
    const port = Number(new URL(hub.base).port);
    const proxy = await startTcpProxy('127.0.0.1', port);
    try {
      const lost = await runDemo(
        { ...settings(), url: `http://127.0.0.1:${proxy.port}`, minutes: 0.2, orders: 10 },
        {
          out: (line) => {
            if (line.startsWith('Set up ')) void proxy.cut();
          },
          signal: new AbortController().signal,
        },
      );
      expect(lost).toMatchObject({ hubLost: true, interrupted: true });
      expect(lost.errors[0]).toContain(`Cannot reach the hub at http://127.0.0.1:${proxy.port}`);
    } finally {
      await proxy.close();
    }
  });

  it('says what is missing when it has no key, and when the hub cannot be reached', async () => {
    const noKey = await demoProcess(['--url', hub.base]).exited;
    expect(noKey.code).toBe(2);
    expect(noKey.output).toContain('no key: pass an ADMIN key with --key or HUB_ADMIN_KEY');

    const unreachable = await demoProcess(['--url', 'http://127.0.0.1:9', '--key', 'k']).exited;
    expect(unreachable.code).toBe(1);
    expect(unreachable.output).toContain('Cannot reach the hub at http://127.0.0.1:9');
  });
});
