import '../src/node-version.js'; // npm test on an older Node stops in one line too
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

export default defineConfig({
  root: resolve(dirname(fileURLToPath(import.meta.url)), '..'),
  resolve: {
    // Node resolves `graphql` to its CommonJS build (the package has no "exports"); Vite would pick
    // the .mjs one for our sources. Two copies break `instanceof GraphQLError`, so use Node's.
    alias: [{ find: /^graphql$/, replacement: 'graphql/index.js' }],
  },
  test: {
    include: ['test/**/*.test.ts'],
    // Real databases and real child processes: generous, but every test still has a bound.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: more workers than that only makes each PGlite slower.
    maxWorkers: 2,
  },
});
