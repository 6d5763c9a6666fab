import { DemoError } from './hub-client.js';
import { runDemo } from './run.js';
import { readSettings, USAGE } from './settings.js';

// `npm run demo`: a compressed day of orders against a running hub. Exit 0 when the day ran (failures it met
// are in the summary), 1 when it could not run or the hub went away, 2 for a usage error, 130 when interrupted.

if (process.argv.includes('--help')) {
  console.log(`Usage: ${USAGE}`);
  process.exit(0);
}

let settings;
try {
  settings = readSettings(process.argv.slice(2), process.env);
} catch (err) {
  console.error(`${(err as Error).message}\n\nUsage: ${USAGE}`);
  process.exit(2);
}

const controller = new AbortController();
process.once('SIGINT', () => controller.abort());
process.once('SIGTERM', () => controller.abort());

try {
  const summary = await runDemo(settings, { out: (line) => console.log(line), signal: controller.signal });
  process.exitCode = summary.hubLost ? 1 : summary.interrupted ? 130 : 0;
} catch (err) {
  if (!(err instanceof DemoError)) throw err;
  console.error(err.message);
  process.exitCode = 1;
}
