// `npm run import -- --channel CODE --file orders.csv [--historical]`: backfills orders from a CSV file.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import cliProgress from 'cli-progress';
import { Role } from '../common/enums.js';
import { RequestContext } from '../services/context.js';
import { importOrdersCsv, type ImportReport } from '../services/csv-import.js';
import { argsOrExit, isMain, runCli, UsageError } from './cli.js';

export const USAGE = 'Usage: npm run import -- --channel <channel code> --file <orders.csv> [--historical]';

export interface ImportArgs {
  channel: string;
  file: string;
  historical: boolean;
}

export { UsageError };

/** The command line's options; a missing or unknown one is a UsageError. */
export function parseImportArgs(argv: string[]): ImportArgs {
  let values: { channel?: string; file?: string; historical?: boolean; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        channel: { type: 'string' },
        file: { type: 'string' },
        historical: { type: 'boolean', default: false },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  if (values.help) throw new UsageError('');
  if (!values.channel) throw new UsageError('--channel is required.');
  if (!values.file) throw new UsageError('--file is required.');
  return { channel: values.channel, file: values.file, historical: values.historical ?? false };
}

/** Counts a file's rows cheaply (line breaks, one streaming pass) for the progress bar's total; an estimate. */
export async function estimateRows(file: string): Promise<number> {
  let lines = 0;
  let last = 0x0a;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    for (let i = chunk.indexOf(0x0a); i !== -1; i = chunk.indexOf(0x0a, i + 1)) lines++;
    if (chunk.length) last = chunk[chunk.length - 1];
  }
  if (last !== 0x0a) lines++;
  return Math.max(0, lines - 1);
}

/** The operator at the command line acts as ADMIN: whoever can run it can reach the database anyway. */
export function cliContext(ctx: RequestContext): RequestContext {
  return new RequestContext({
    em: ctx.em,
    principal: { keyId: 'cli', role: Role.ADMIN, channelCode: null, label: 'npm run import' },
    requestId: 'cli-import',
    logger: ctx.logger,
    hub: ctx.hub,
  });
}

export function formatReport(report: ImportReport, args: ImportArgs, seconds: number): string[] {
  const width = String(Math.max(report.rows, 1)).length;
  const n = (v: number) => String(v).padStart(width);
  const lines = [
    `Imported ${basename(args.file)} into channel "${report.channelCode}"` +
      (args.historical ? ' as history (stock left untouched).' : '.'),
    `  rows        ${n(report.rows)}`,
    `  created     ${n(report.created)}`,
    `  duplicates  ${n(report.duplicates)}  (already known: not created twice)`,
    `  failed      ${n(report.failed)}`,
    `  in ${seconds.toFixed(1)} s, ${Math.round(report.rows / Math.max(seconds, 0.001))} rows/s`,
  ];
  if (report.errors.length) {
    lines.push('Failures (row numbers as a spreadsheet shows them: the header is row 1):');
    for (const e of report.errors) lines.push(`  row ${e.row}: ${e.message}`);
  }
  return lines;
}

/** The command: streams the file into the channel, with a progress bar; 0 when nothing failed, else 1. */
export async function runImport(
  ctx: RequestContext,
  args: ImportArgs,
  io: { out(line: string): void; progress: NodeJS.WritableStream | null },
): Promise<number> {
  const info = await stat(args.file).catch(() => null);
  if (!info?.isFile()) {
    io.out(`No such file: ${args.file}`);
    return 1;
  }
  const started = performance.now();
  let bar: cliProgress.SingleBar | null = null;
  if (io.progress) {
    bar = new cliProgress.SingleBar(
      {
        stream: io.progress,
        format:
          'Importing {bar} {percentage}% | {value}/{total} rows | {duration_formatted} | ETA {eta_formatted}',
        hideCursor: true,
        etaBuffer: 50,
      },
      cliProgress.Presets.shades_classic,
    );
    bar.start(await estimateRows(args.file), 0);
  }
  let report: ImportReport;
  try {
    report = await importOrdersCsv(ctx, args.channel, createReadStream(args.file), {
      historical: args.historical,
      onProgress: (rows) => bar?.update(rows),
    });
  } finally {
    bar?.stop();
  }
  for (const line of formatReport(report, args, (performance.now() - started) / 1000)) io.out(line);
  return report.failed === 0 ? 0 : 1;
}

if (isMain(import.meta.url)) {
  const args = argsOrExit(parseImportArgs, USAGE);
  await runCli(async ({ ctx }) =>
    runImport(cliContext(ctx), args, {
      out: (line) => console.log(line),
      progress: process.stderr.isTTY ? process.stderr : null,
    }),
  );
}
