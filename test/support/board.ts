import { execFile } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { chromium, type Browser, type Page } from 'playwright-core';
import { graphql, type HubProcess } from './hub-process.js';

// Shared by the board's tests and bench/board.ts (compiled to dist/bench): nothing here imports vitest.

/** The repository, seen from test/support (vitest) or dist/test/support (the compiled benchmark). */
const ROOT = fileURLToPath(
  new URL(import.meta.url.endsWith('.ts') ? '../../' : '../../../', import.meta.url),
);

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const chromiumFound = existsSync(CHROMIUM_PATH);

/** Builds the board into dist/board, as `npm run build` does after tsc. */
export async function buildBoard(): Promise<void> {
  await promisify(execFile)(
    process.execPath,
    [`${ROOT}node_modules/vite/bin/vite.js`, 'build', '--config', `${ROOT}board/vite.config.ts`],
    { cwd: ROOT },
  );
}

/** Headless Chromium with nothing of its own on the network (the machine's network is closed). */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** A laptop-sized page (1366×768) showing the board, in the given locale and time zone. */
export async function newBoardPage(
  browser: Browser,
  options: { locale?: string; timezoneId?: string } = {},
): Promise<Page> {
  const context = await browser.newContext({
    viewport: { width: 1366, height: 768 },
    locale: options.locale ?? 'en-GB',
    timezoneId: options.timezoneId ?? 'Asia/Shanghai',
  });
  return context.newPage();
}

/** Enters the key in the board's form and waits until the board is live with its snapshots loaded. */
export async function openBoard(page: Page, base: string, key: string): Promise<void> {
  await page.goto(`${base}/board/`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Open' }).click();
  await page.waitForFunction(() => window.__board?.live && window.__board.loaded);
}

/** The number a board cell holds (its data-value, not the formatted text). */
export async function boardNumber(page: Page, selector: string): Promise<number> {
  return Number(await page.locator(selector).getAttribute('data-value'));
}

declare global {
  interface Window {
    __board: { events: number; renders: number; live: boolean; loaded: boolean };
    __meter?: { frames: number; deltas: number[]; longFrames: number[]; stop(): void };
  }
}

export interface FrameFigures {
  frames: number;
  p50: number;
  p95: number;
  max: number;
  /** long-animation-frame entries (over 50 ms) and their total duration. */
  longFrames: number;
  longFramesMs: number;
}

/** Counts the page's animation frames and the time between them from now on. */
export async function startFrameMeter(page: Page): Promise<void> {
  await page.evaluate(() => {
    const meter = {
      frames: 0,
      deltas: [] as number[],
      longFrames: [] as number[],
      stop: () => undefined as void,
    };
    let last = performance.now();
    let running = true;
    const tick = (now: number) => {
      if (!running) return;
      meter.frames++;
      meter.deltas.push(now - last);
      last = now;
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) meter.longFrames.push(entry.duration);
    });
    observer.observe({ type: 'long-animation-frame', buffered: false });
    meter.stop = () => {
      running = false;
      observer.disconnect();
    };
    window.__meter = meter;
  });
}

export async function stopFrameMeter(page: Page): Promise<FrameFigures> {
  const { frames, deltas, longFrames } = await page.evaluate(() => {
    const meter = window.__meter!;
    meter.stop();
    return { frames: meter.frames, deltas: meter.deltas, longFrames: meter.longFrames };
  });
  const sorted = [...deltas].sort((a, b) => a - b);
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN;
  return {
    frames,
    p50: at(0.5),
    p95: at(0.95),
    max: sorted.at(-1) ?? NaN,
    longFrames: longFrames.length,
    longFramesMs: longFrames.reduce((a, b) => a + b, 0),
  };
}

export const JD_SECRET = 'board-jd-webhook-secret-0123456789abcdef';

/** `YYYY-MM-DD HH:mm:ss` in Shanghai, as JD writes its times. */
function shanghaiTime(at: Date): string {
  return new Date(at.getTime() + 8 * 3600_000).toISOString().slice(0, 19).replace('T', ' ');
}

/** A JD channel signing with JD_SECRET, and SKU-A and SKU-B with `units` each: what a stream of orders needs. */
export async function setUpOrderStream(hub: HubProcess, channelCode: string, units: number): Promise<void> {
  await graphql(
    hub.base,
    hub.adminKey,
    `mutation {
      upsertChannel(input: { code: "${channelCode}", platform: JD, name: "JD", webhookSecret: "${JD_SECRET}" }) { id }
      a: upsertProduct(input: { productCode: "SKU-A", name: "A" }) { id }
      b: upsertProduct(input: { productCode: "SKU-B", name: "B" }) { id }
      sa: adjustStock(productCode: "SKU-A", delta: ${units}, reason: "order stream") { onHand }
      sb: adjustStock(productCode: "SKU-B", delta: ${units}, reason: "order stream") { onHand }
    }`,
  );
}

/** A paid JD order of one line, placed at `placedAt`, as the platform pushes it. */
export function jdOrder(orderId: string, productCode: string, placedAt = new Date()) {
  return {
    orderId,
    orderState: 'WAIT_SELLER_STOCK_OUT',
    orderStartTime: shanghaiTime(placedAt),
    paymentConfirmTime: shanghaiTime(placedAt),
    orderTotalPrice: '99.00',
    orderPayment: '99.00',
    freightPrice: '0.00',
    consigneeInfo: {
      fullname: '李雷',
      mobile: '13900000000',
      province: '北京',
      city: '北京市',
      county: '朝阳区',
      fullAddress: '北京朝阳区建国路 1 号',
    },
    itemInfoList: [
      {
        skuId: `${orderId}-1`,
        outerSkuId: productCode,
        skuName: productCode,
        itemTotal: '1',
        jdPrice: '99.00',
      },
    ],
  };
}

/** Delivers a payload to the channel's webhook, signed with JD_SECRET; throws unless answered 200. */
export async function deliverJd(base: string, channelCode: string, payload: unknown): Promise<void> {
  const body = JSON.stringify(payload);
  const response = await fetch(`${base}/webhooks/${channelCode}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${createHmac('sha256', JD_SECRET).update(body).digest('hex')}`,
    },
    body,
  });
  if (response.status !== 200)
    throw new Error(`webhook answered ${response.status}: ${await response.text()}`);
}

/**
 * `count` JD orders spread evenly over `seconds` (10,000 a minute: 2,500 over 15 s), at most `concurrency`
 * in flight; a hub slower than the pace just takes longer. Answers the seconds it took.
 */
export async function orderStream(
  base: string,
  channelCode: string,
  {
    count,
    seconds,
    prefix,
    products,
    concurrency = 64,
  }: {
    count: number;
    seconds: number;
    prefix: string;
    products: string[];
    concurrency?: number;
  },
): Promise<number> {
  const started = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < count) {
      const n = next++;
      const due = started + (n * seconds * 1000) / count;
      const wait = due - performance.now();
      // Pacing the sender, not synchronising with the hub: each order waits for its slot in the stream.
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      await deliverJd(base, channelCode, jdOrder(`${prefix}${n}`, products[n % products.length]));
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (performance.now() - started) / 1000;
}
