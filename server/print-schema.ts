// Writes schema/schema.graphql, the printed form of the served schema, and schema/subgraph.graphql, what
// `_service { sdl }` answers a federation router (the file `rover supergraph compose` may read).
import { writeFileSync } from 'node:fs';
import { hubSchema, printHubSchema, printHubSubgraph } from './graphql-schema.js';

const schema = await hubSchema();
writeFileSync('schema/schema.graphql', printHubSchema(schema));
writeFileSync('schema/subgraph.graphql', printHubSubgraph(schema));
console.log('Wrote schema/schema.graphql and schema/subgraph.graphql');
