// PostGraphile 5 over the hub's own tables, as the third contender of bench/read-path.ts, which spawns this
// file (compiled: dist/bench/postgraphile-server.js) in its own process. The Amber preset and the
// connection-filter plugin with relation filters (to filter orders by their channel's code); the `public`
// schema as the hub's migrations leave it, nothing added to it. Node's http server, no GraphiQL, no explain.
//
// Environment: DATABASE_URL, PORT, POOL_SIZE (connections, as many as the hub's request pool). Prints
// READY_LINE on stdout once it listens; stops on SIGTERM/SIGINT.
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { jsonPgSmartTags } from 'postgraphile/utils';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';

/** What bench/read-path.ts waits for on stdout. */
const READY_LINE = 'PostGraphile ready';

const databaseUrl = process.env.DATABASE_URL;
const port = Number(process.env.PORT);
const poolSize = Number(process.env.POOL_SIZE ?? 10);
if (!databaseUrl || !Number.isInteger(port) || port <= 0) throw new Error('DATABASE_URL and PORT are needed');

// Amber orders and filters only by indexed columns; a page's lines come in line order (as the hub gives
// them), and order_line.line_no is in no index: a smart tag (in the configuration, not the database)
// lets it order by that column.
const LineOrder = jsonPgSmartTags({
  version: 1,
  config: { class: { order_line: { attribute: { line_no: { tags: { behavior: '+orderBy' } } } } } },
});

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  plugins: [LineOrder],
  pgServices: [
    makePgService({ connectionString: databaseUrl, poolConfig: { max: poolSize }, schemas: ['public'] }),
  ],
  schema: { connectionFilterRelations: true },
  grafserv: { graphiql: false, watch: false },
  grafast: { explain: false },
});
const serv = pgl.createServ(grafserv);
const server = createServer();
server.keepAliveTimeout = 60_000;
await serv.addTo(server, false);
// Build the schema (introspection) before saying ready, not on the first request.
await pgl.getSchema();
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
console.log(`${READY_LINE} on ${port}`);

let stopping = false;
const stop = async () => {
  if (stopping) return;
  stopping = true;
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await pgl.release(); // the grafserv instance and the pool too
  process.exit(0);
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
