// `npm run import:refunds -- --channel CODE --file refunds.csv`: backfills after-sale records from a CSV file.
import { readFile, stat } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { RequestContext } from '../services/context.js';
import { importRefundsCsv } from '../services/returns.js';
import { argsOrExit, isMain, runCli, UsageError } from './cli.js';
import { cliContext, formatReport } from './import.js';

export const USAGE = 'Usage: npm run import:refunds -- --channel <channel code> --file <refunds.csv>';

export interface RefundImportArgs {
  channel: string;
  file: string;
}

/** The command line's options; a missing or unknown one is a UsageError. */
export function parseRefundImportArgs(argv: string[]): RefundImportArgs {
  let values: { channel?: string; file?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        channel: { type: 'string' },
        file: { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (!values.channel) throw new UsageError('--channel is required.');
  if (!values.file) throw new UsageError('--file is required.');
  return { channel: values.channel, file: values.file };
}

/**
 * The command: the file's refunds into the channel through importRefundsCsv (the mutation's path, without its
 * 2 MB cap on a request body: a backfill file is read whole, refunds being few), then the summary; 0 when
 * nothing failed, else 1.
 */
export async function runRefundImport(
  ctx: RequestContext,
  args: RefundImportArgs,
  io: { out(line: string): void },
): Promise<number> {
  const info = await stat(args.file).catch(() => null);
  if (!info?.isFile()) {
    io.out(`No such file: ${args.file}`);
    return 1;
  }
  const started = performance.now();
  const report = await importRefundsCsv(ctx, args.channel, await readFile(args.file, 'utf8'));
  const seconds = (performance.now() - started) / 1000;
  for (const line of formatReport(report, { ...args, historical: false }, seconds)) io.out(line);
  return report.failed === 0 ? 0 : 1;
}

if (isMain(import.meta.url)) {
  const args = argsOrExit(parseRefundImportArgs, USAGE);
  await runCli(async ({ ctx }) =>
    runRefundImport(cliContext(ctx), args, { out: (line) => console.log(line) }),
  );
}
