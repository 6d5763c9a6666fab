import { createRequire } from 'node:module';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  // type-graphql and MikroORM read property types from decorator metadata.
  oxc: { decorator: { legacy: true, emitDecoratorMetadata: true } },
  resolve: {
    // One copy of graphql: type-graphql loads the CommonJS build.
    alias: { graphql: createRequire(import.meta.url).resolve('graphql') },
  },
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // Files share one module graph: the app's imports took a third of the run when every file loaded them
    // again. Tests keep no state in modules (each file starts its own hubs and databases).
    isolate: false,
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
