// Writes schema/schema.graphql, the printed form of the served schema.
import { writeFileSync } from 'node:fs';
import { hubSchema, printHubSchema } from './graphql-schema.js';

writeFileSync('schema/schema.graphql', printHubSchema(await hubSchema()));
console.log('Wrote schema/schema.graphql');
