// `npm run token:create`: an operator's way in on a database without ADMIN_TOKEN.
import { describe, expect, it } from 'vitest';
import { createApp } from '../../src/server.js';
import { createLogger } from '../../src/logger.js';
import { memoryStore } from '../../src/rate-limit.js';
import { openDatabase } from '../../src/db/database.js';
import { testConfig } from '../support/app.js';
import { createPostgresDatabase } from '../support/databases.js';
import { runToEnd } from '../support/process.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('token');
const createToken = (args: string[], env: Record<string, string>) =>
  runToEnd(process.execPath, ['dist/cli/create-token.js', ...args], env, 60_000);

async function answersAsAdmin(database: Parameters<typeof openDatabase>[0], authorization: string) {
  const db = await openDatabase(database);
  try {
    const app = createApp({ db, logger: createLogger('error', () => {}), config: testConfig({ ADMIN_TOKEN: '' }), rateLimits: memoryStore() });
    const response = await app.fetch('http://sessiongraph.test/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query: '{ viewer { apiClient { name scope } } }' }),
    });
    return response.json();
  } finally {
    await db.close();
  }
}

describe('token:create', () => {
  it('creates an admin token on the embedded database and prints its secret once', async () => {
    const dataDir = await tempDir();
    const result = await createToken(['--name', 'operations'], { DATA_DIR: dataDir });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    const header = /header: Authorization: (Basic \S+)/.exec(result.stdout)?.[1];
    expect(result.stdout).toMatch(/^created ADMIN API token sgk_\S+ \(operations\)/);
    expect(await answersAsAdmin({ kind: 'pglite', dataDir }, header!)).toEqual({ data: { viewer: { apiClient: { name: 'operations', scope: 'ADMIN' } } } });
  });

  it.runIf(process.env.TEST_DATABASE_URL)('creates one on PostgreSQL, migrating it first', async () => {
    const database = await createPostgresDatabase();
    try {
      const result = await createToken(['--scope', 'read'], { DATABASE_URL: database.url });
      expect(result.code).toBe(0);
      const header = /header: Authorization: (Basic \S+)/.exec(result.stdout)?.[1];
      const answer = await answersAsAdmin({ kind: 'postgres', url: database.url, poolSize: 2, connectTimeoutMs: 5000 }, header!);
      expect(answer).toEqual({ data: { viewer: { apiClient: { name: null, scope: 'READ' } } } });
    } finally {
      await database.drop();
    }
  });

  it('explains bad arguments', async () => {
    const result = await createToken(['--scope', 'root'], { DATA_DIR: await tempDir() });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/--scope must be admin or read, got "root"\nusage: npm run token:create/);
  });
});
