import { readFileSync } from 'node:fs';
import { buildSchema, findBreakingChanges } from 'graphql';
import { describe, expect, it } from 'vitest';
import { hubSchema, printHubSchema, printHubSubgraph } from '../server/graphql-schema.js';

const contract = buildSchema(readFileSync(new URL('../schema/contract.graphql', import.meta.url), 'utf8'));

describe('the served schema', () => {
  it('keeps every type, field, argument and enum value of the public contract', async () => {
    const served = await hubSchema();
    expect(findBreakingChanges(contract, served).map((c) => c.description)).toEqual([]);
  });

  it('is committed as schema/schema.graphql, and the committed file is not stale', async () => {
    const committed = readFileSync(new URL('../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed, 'run `npm run schema:print` and commit the result').toBe(
      printHubSchema(await hubSchema()),
    );
  });

  it('is committed as the subgraph SDL too (schema/subgraph.graphql), not stale', async () => {
    const committed = readFileSync(new URL('../schema/subgraph.graphql', import.meta.url), 'utf8');
    expect(committed, 'run `npm run schema:print` and commit the result').toBe(
      printHubSubgraph(await hubSchema()),
    );
  });
});
