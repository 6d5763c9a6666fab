// `npm run replay -- [--failed] [--channel CODE] [--limit N]`: processes stored payloads again.
import { parseArgs } from 'node:util';
import { replayIngestLog } from '../services/replay.js';
import { runCli } from './cli.js';

const { values } = parseArgs({
  options: {
    failed: { type: 'boolean', default: false },
    channel: { type: 'string' },
    limit: { type: 'string', default: '10000' },
  },
});

await runCli(async ({ ctx }) => {
  const report = await replayIngestLog(ctx, {
    failedOnly: values.failed,
    channelCode: values.channel ?? null,
    limit: Number(values.limit),
  });
  console.log(`Replayed ${report.replayed}: ${report.succeeded} stored, ${report.failed} still failing.`);
  return report.failed === 0 ? 0 : 1;
});
