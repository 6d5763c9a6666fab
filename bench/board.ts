// The operations board (issue 16) under 10,000 orders a minute: its frame times in headless Chromium while
// JD orders arrive through the webhook, beside the same page idle, in one run. `npm run bench:board`;
// BOARD_BENCH_SECONDS sets the length of each phase (30).
import type { Browser } from 'playwright-core';
import {
  boardNumber,
  launchChromium,
  newBoardPage,
  openBoard,
  orderStream,
  setUpOrderStream,
  startFrameMeter,
  stopFrameMeter,
  type FrameFigures,
} from '../test/support/board.js';
import { startHubProcess } from '../test/support/hub-process.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { serverUrl } from './support.js';

const SECONDS = Number(process.env.BOARD_BENCH_SECONDS ?? 30);
const PER_MINUTE = 10_000;
const ORDERS = Math.round((PER_MINUTE * SECONDS) / 60);

const line = (label: string, f: FrameFigures) =>
  `${label.padEnd(22)} ${String(f.frames).padStart(6)} frames   p50 ${f.p50.toFixed(1).padStart(5)} ms   ` +
  `p95 ${f.p95.toFixed(1).padStart(5)} ms   max ${f.max.toFixed(1).padStart(6)} ms   ` +
  `long animation frames ${f.longFrames} (${f.longFramesMs.toFixed(0)} ms)`;

const database = await scratchDatabase(serverUrl, 'bench_board');
const hub = await startHubProcess(database.url, {}, { passStderr: true });
let browser: Browser | undefined;
try {
  await setUpOrderStream(hub, 'jd-bench', 1_000_000);
  browser = await launchChromium();
  const page = await newBoardPage(browser);
  await openBoard(page, hub.base, hub.adminKey);

  await startFrameMeter(page);
  // The idle phase is a span of time to measure, not a wait for something.
  await new Promise((resolve) => setTimeout(resolve, SECONDS * 1000));
  const idle = await stopFrameMeter(page);

  const before = await page.evaluate(() => ({ ...window.__board }));
  await startFrameMeter(page);
  const took = await orderStream(hub.base, 'jd-bench', {
    count: ORDERS,
    seconds: SECONDS,
    prefix: 'BOARD-',
    products: ['SKU-A', 'SKU-B'],
  });
  const busy = await stopFrameMeter(page);
  await page.waitForFunction(
    (n) => Number(document.querySelector('#flow-total')?.getAttribute('data-value')) === n,
    ORDERS,
    {
      timeout: 120_000,
    },
  );
  const after = await page.evaluate(() => ({ ...window.__board }));

  const events = after.events - before.events;
  const renders = after.renders - before.renders;
  console.log(
    `board: ${ORDERS} orders in ${took.toFixed(1)} s (${Math.round((ORDERS / took) * 60)} a minute; asked ${PER_MINUTE})`,
  );
  console.log(line('idle', idle));
  console.log(line('10,000 orders a minute', busy));
  console.log(
    `frame time under load / idle: p50 ${(busy.p50 / idle.p50).toFixed(2)}x, p95 ${(busy.p95 / idle.p95).toFixed(2)}x`,
  );
  console.log(
    `${events} events, ${renders} renders (${(events / renders).toFixed(1)} events a render); flow shows ${await boardNumber(page, '#flow-total')}`,
  );
} finally {
  await browser?.close();
  await hub.stop();
  await database.drop();
}
