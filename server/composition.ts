import { composeServices } from '@apollo/composition';
import { parse } from 'graphql';

export interface SubgraphSdl {
  name: string;
  /** Where the router sends this subgraph's fetches. */
  url: string;
  sdl: string;
}

export type Composition = { supergraphSdl: string; hints: string[] } | { errors: string[] };

/** Composes subgraphs into a supergraph as `rover supergraph compose` does (the same library, @apollo/composition). */
export function composeSupergraph(subgraphs: SubgraphSdl[]): Composition {
  const result = composeServices(
    subgraphs.map(({ name, url, sdl }) => ({ name, url, typeDefs: parse(sdl) })),
  );
  if (result.errors) return { errors: result.errors.map((e) => e.message) };
  return { supergraphSdl: result.supergraphSdl, hints: result.hints.map((h) => h.toString()) };
}
