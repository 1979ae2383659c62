// The real Yoga handler over a fresh test database, driven in-process through yoga.fetch.
import { createLogger, type LogFields } from '../../src/logger.js';
import { createApp, type App } from '../../src/server.js';
import type { DatabaseTarget, TestDatabase } from './databases.js';

export interface TestApp extends TestDatabase {
  app: App;
  /** Every log line the app wrote, parsed. */
  logs: LogFields[];
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ data?: T; errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[] }>;
}

export async function createTestApp(target: DatabaseTarget): Promise<TestApp> {
  const database = await target.open();
  const logs: LogFields[] = [];
  const logger = createLogger('debug', (line) => logs.push(JSON.parse(line) as LogFields));
  const app = createApp({ db: database.db, logger, config: { env: 'test' } });
  return {
    ...database,
    app,
    logs,
    async graphql(query, variables, headers = {}) {
      const response = await app.fetch('http://sessiongraph.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      return response.json();
    },
  };
}
