// CSV backfill speed: `npm run build:bench && node dist/bench/csv-import.js [--rows 100000] [--lines 2]
// [--historical] [--concurrency N]`, against DATABASE_URL (default postgres://postgres@127.0.0.1:5432/postgres),
// on a scratch database of its own that it drops afterwards. Imports the file twice: created, then all duplicates.
import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Channel, ChannelSku, InventoryItem, Product } from '../entities/index.js';
import { IngestionMode, Platform, Role } from '../common/enums.js';
import { RequestContext } from '../services/context.js';
import { DEFAULT_CONCURRENCY, importOrdersCsv, type ImportReport } from '../services/csv-import.js';
import { hubServices } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/logger.js';
import { migrate, openOrm } from '../server/orm.js';
import { writeDouyinExport } from '../test/support/csv-fixtures.js';
import { scratchDatabase } from '../test/support/scratch-database.js';
import { serverUrl } from './support.js';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '100000' },
    lines: { type: 'string', default: '2' },
    products: { type: 'string', default: '500' },
    historical: { type: 'boolean', default: false },
    concurrency: { type: 'string' },
  },
});
const rowsWanted = Number(values.rows);
const linesPerOrder = Number(values.lines);
const concurrency = values.concurrency ? Number(values.concurrency) : DEFAULT_CONCURRENCY;
const dbName = `bench_csv_${randomBytes(4).toString('hex')}`;
const file = join(tmpdir(), `${dbName}.csv`);
const logger = createLogger(process.env.LOG_LEVEL ?? 'warn');

const db = await scratchDatabase(serverUrl, dbName);
const orm = await openOrm(db.url, logger);
try {
  await migrate(orm);
  const em = orm.em.fork();
  const channel = em.create(Channel, {
    code: 'douyin-live',
    platform: Platform.DOUYIN,
    name: 'Douyin live room',
    ingestionModes: [IngestionMode.CSV],
  });
  const codes = Array.from(
    { length: Number(values.products) },
    (_, i) => `BENCH-${String(i).padStart(4, '0')}`,
  );
  const products = codes.map((productCode) => {
    const product = em.create(Product, { productCode, name: productCode });
    em.create(InventoryItem, { product, productCode, onHand: 1_000_000_000, safetyStock: 0 });
    return product;
  });
  em.create(ChannelSku, { channel, platformSkuId: '1739000009999', product: products[0] });
  await em.flush();

  const orders = Math.ceil(rowsWanted / linesPerOrder);
  let started = performance.now();
  const rows = await writeDouyinExport(file, {
    orders,
    linesPerOrder,
    productCodes: codes,
    unmappedEvery: { n: 10, skuId: '1739000009999' },
  });
  console.log(
    `generated ${rows} rows (${orders} orders) in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );

  let peakRss = 0;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
  const ctx = new RequestContext({
    em: orm.em.fork(),
    principal: { keyId: 'bench', role: Role.ADMIN, channelCode: null, label: 'bench' },
    requestId: 'bench',
    logger,
    // The defaults: the bench reads no hub configuration.
    hub: hubServices(loadConfig({}), orm),
  });
  const run = async (label: string) => {
    started = performance.now();
    const report: ImportReport = await importOrdersCsv(ctx, 'douyin-live', createReadStream(file), {
      historical: values.historical,
      concurrency,
    });
    const seconds = (performance.now() - started) / 1000;
    console.log(
      `${label}: ${report.rows} rows in ${seconds.toFixed(1)} s = ${Math.round(report.rows / seconds)} rows/s ` +
        `(created ${report.created}, duplicates ${report.duplicates}, failed ${report.failed}; ` +
        `historical ${values.historical}, concurrency ${concurrency}); peak RSS ${Math.round(peakRss / 2 ** 20)} MB`,
    );
    for (const e of report.errors.slice(0, 5)) console.log(`  row ${e.row}: ${e.message}`);
  };
  await run('first import');
  await run('re-import');
  clearInterval(sampler);
} finally {
  await orm.close();
  await db.drop();
  await rm(file, { force: true });
}
