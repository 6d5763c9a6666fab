import { parseArgs } from 'node:util';
import { z } from 'zod';
import { parseCarrierSecrets } from '../server/config.js';

export const USAGE = `npm run demo -- --key <ADMIN key> [options]

  --url <url>            the running hub (env HUB_URL; default http://127.0.0.1:4000)
  --key <key>            an ADMIN key, e.g. the hub's HUB_ADMIN_KEY (env HUB_ADMIN_KEY)
  --minutes <n>          wall-clock minutes the simulated day takes (default 5; 0.1 is six seconds)
  --orders <n>           orders on a normal day, before the live stream's spike (default 1500)
  --concurrency <n>      requests to the hub at once, at most (default 8)
  --seed <n>             another seed plans another day (default 1)
  --carrier <code=secret>  the carrier whose webhook signs tracking events, as the hub's
                         CARRIER_WEBHOOK_SECRETS has it (env CARRIER_WEBHOOK_SECRETS, the first entry);
                         without one, tracking events go through recordShipmentEvent
  --hold-wait <seconds>  at the end, wait this long at most for unpaid orders' holds to run out (default 60)`;

export interface DemoSettings {
  url: string;
  key: string;
  minutes: number;
  orders: number;
  concurrency: number;
  seed: number;
  carrier: { code: string; secret: string } | null;
  holdWaitSeconds: number;
}

const number = (name: string, min: number, max: number) =>
  z.coerce
    .number({ error: `--${name} must be a number` })
    .min(min, `--${name} must be at least ${min}`)
    .max(max, `--${name} must be at most ${max}`);

const schema = z.object({
  url: z.url({ protocol: /^https?$/, error: '--url must be an http:// or https:// URL' }),
  key: z
    .string({ error: 'no key: pass an ADMIN key with --key or HUB_ADMIN_KEY' })
    .min(1, 'the key is empty'),
  minutes: number('minutes', 0.01, 24 * 60),
  orders: number('orders', 10, 1_000_000).int('--orders must be a whole number'),
  concurrency: number('concurrency', 1, 256).int('--concurrency must be a whole number'),
  seed: number('seed', 0, 2 ** 31).int('--seed must be a whole number'),
  carrier: z
    .string()
    .optional()
    .transform((value, ctx) => {
      try {
        const [first] = parseCarrierSecrets(value ?? '');
        return first ? { code: first[0], secret: first[1] } : null;
      } catch (err) {
        ctx.addIssue({ code: 'custom', message: `--carrier: ${(err as Error).message}` });
        return z.NEVER;
      }
    }),
  holdWaitSeconds: number('hold-wait', 0, 3600),
});

/** The settings from the command line, then the environment, then the defaults; throws a message naming the bad one. */
export function readSettings(argv: string[], env: NodeJS.ProcessEnv): DemoSettings {
  const { values } = parseArgs({
    args: argv,
    options: {
      url: { type: 'string' },
      key: { type: 'string' },
      minutes: { type: 'string' },
      orders: { type: 'string' },
      concurrency: { type: 'string' },
      seed: { type: 'string' },
      carrier: { type: 'string' },
      'hold-wait': { type: 'string' },
    },
    strict: true,
  });
  const parsed = schema.safeParse({
    url: values.url ?? env.HUB_URL ?? 'http://127.0.0.1:4000',
    key: values.key ?? env.HUB_ADMIN_KEY,
    minutes: values.minutes ?? 5,
    orders: values.orders ?? 1500,
    concurrency: values.concurrency ?? 8,
    seed: values.seed ?? 1,
    carrier: values.carrier ?? env.CARRIER_WEBHOOK_SECRETS,
    holdWaitSeconds: values['hold-wait'] ?? 60,
  });
  if (!parsed.success) throw new Error(parsed.error.issues.map((issue) => issue.message).join('\n'));
  return parsed.data;
}
