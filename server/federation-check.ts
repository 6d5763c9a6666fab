// The composition check for CI: composes the hub's subgraph SDL, as this code builds it, with other subgraphs'
// SDL files and exits 1 on a composition error. Without arguments: the example CRM, docs/crm-subgraph.graphql.
//
// Usage: npm run federation:check -- [name=path.graphql ...]
import { readFileSync } from 'node:fs';
import { composeSupergraph } from './composition.js';
import { hubSchema, printHubSubgraph } from './graphql-schema.js';

const others = (process.argv.length > 2 ? process.argv.slice(2) : ['crm=docs/crm-subgraph.graphql']).map(
  (argument) => {
    const [name, path] = argument.split('=');
    if (!name || !path) throw new Error(`expected name=path.graphql, got "${argument}"`);
    // Composing needs no address: a reserved name (.invalid) stands in.
    return { name, url: `http://${name}.invalid/graphql`, sdl: readFileSync(path, 'utf8') };
  },
);
const result = composeSupergraph([
  { name: 'hub', url: 'http://hub.invalid/graphql', sdl: printHubSubgraph(await hubSchema()) },
  ...others,
]);
if ('errors' in result) {
  for (const error of result.errors) console.error(`composition error: ${error}`);
  process.exit(1);
}
for (const hint of result.hints) console.log(`hint: ${hint}`);
console.log(`The hub composes with ${others.map((o) => o.name).join(', ')}.`);
