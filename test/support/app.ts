// The real Yoga handler over a fresh test database, driven in-process through yoga.fetch.
import { loadConfig, type Config } from '../../src/config.js';
import { EventFeed } from '../../src/events/feed.js';
import { memoryStore } from '../../src/rate-limit.js';
import { createLogger, type LogFields } from '../../src/logger.js';
import { createApp, type App } from '../../src/server.js';
import type { DatabaseTarget, TestDatabase } from './databases.js';

export interface TestApp extends TestDatabase {
  app: App;
  /** The app's live event feed (tests wait on its subscriptions). */
  events: EventFeed;
  /** Every log line the app wrote, parsed. */
  logs: LogFields[];
  graphql<T = Record<string, unknown>>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{
    data?: T;
    errors?: { message: string; extensions?: Record<string, unknown>; path?: unknown[] }[];
    extensions?: Record<string, unknown>;
  }>;
}

/** The admin secret test apps accept (ADMIN_TOKEN), and the header that carries it. */
export const testAdminToken = 'test-admin-token-Vq7XkR2mWp9LcZ4d';
export const adminAuthorization = `Basic ${Buffer.from(`admin:${testAdminToken}`).toString('base64')}`;

/** The secret test apps seal their token signing keys with. */
export const testTokenKeySecret = 'test-token-key-secret-0123456789abcdef';

/** The configuration a test app runs with: the real loader, over a test environment. */
export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({ NODE_ENV: 'test', ADMIN_TOKEN: testAdminToken, AUDIENCE: 'sessiongraph-test', TOKEN_KEY_SECRET: testTokenKeySecret, ...env });
}

export interface TestAppOptions {
  /** The clock the app sees; tests move it. */
  now?: () => Date;
  /** Environment variables on top of the test defaults (limits, NODE_ENV, …). */
  env?: Record<string, string>;
}

export async function createTestApp(target: DatabaseTarget, options: TestAppOptions = {}): Promise<TestApp> {
  const database = await target.open();
  const logs: LogFields[] = [];
  const logger = createLogger('debug', (line) => logs.push(JSON.parse(line) as LogFields));
  const rateLimits = memoryStore();
  const config = testConfig(options.env);
  const events = new EventFeed(database.db, { ...config.events, logger });
  const app = createApp({ db: database.db, logger, config, rateLimits, now: options.now, events });
  return {
    ...database,
    async dispose() {
      await events.close();
      await rateLimits.close();
      await database.dispose();
    },
    app,
    events,
    logs,
    // As the admin unless the test passes its own Authorization (or an empty one: anonymous).
    async graphql(query, variables, headers = {}) {
      const response = await app.fetch('http://sessiongraph.test/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'application/graphql-response+json',
          authorization: adminAuthorization,
          ...headers,
        },
        body: JSON.stringify({ query, variables }),
      });
      return response.json();
    },
  };
}
