// `npm run seed -- --orders N [--seed S]`: fills the hub's database with demo orders (server/seed.ts).
import { parseArgs } from 'node:util';
import { argsOrExit, isMain, runCli, UsageError } from './cli.js';
import { seedOrders, type SeedSummary } from './seed.js';

export const USAGE = 'Usage: npm run seed -- --orders <count> [--seed <integer>]';

export interface SeedArgs {
  orders: number;
  seed: number;
}

/** The command line's options; a missing or malformed one is a UsageError. */
export function parseSeedArgs(argv: string[]): SeedArgs {
  let values: { orders?: string; seed?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        orders: { type: 'string' },
        seed: { type: 'string', default: '1' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (values.orders === undefined) throw new UsageError('--orders is required.');
  if (!/^[1-9]\d*$/.test(values.orders) || !Number.isSafeInteger(Number(values.orders)))
    throw new UsageError('--orders must be a positive integer.');
  if (!/^-?\d+$/.test(values.seed!) || !Number.isSafeInteger(Number(values.seed)))
    throw new UsageError('--seed must be an integer.');
  return { orders: Number(values.orders), seed: Number(values.seed) };
}

export function formatSummary(summary: SeedSummary, seconds: number): string[] {
  const rows: [string, number][] = [
    ['orders', summary.orders],
    ['lines', summary.lines],
    ['events', summary.events],
    ['shipments', summary.shipments],
    ['channels', summary.channels],
    ['products', summary.products],
  ];
  const width = Math.max(...rows.map(([, v]) => String(v).length));
  return [
    `Seeded in ${seconds.toFixed(1)} s${summary.orders ? '' : ' (nothing new: these orders were seeded before)'}:`,
    ...rows.map(([name, v]) => `  ${name.padEnd(10)} ${String(v).padStart(width)}`),
  ];
}

if (isMain(import.meta.url)) {
  const args = argsOrExit(parseSeedArgs, USAGE);
  await runCli(async ({ orm }) => {
    const started = performance.now();
    const summary = await seedOrders(orm.config.get('clientUrl')!, {
      orders: args.orders,
      seed: args.seed,
      onProgress: (done) =>
        console.error(
          `  ${done} / ${args.orders} orders (${((performance.now() - started) / 1000).toFixed(1)} s)`,
        ),
    });
    for (const line of formatSummary(summary, (performance.now() - started) / 1000)) console.log(line);
    return 0;
  });
}
