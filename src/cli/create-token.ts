// npm run token:create -- [--name <what it is for>] [--scope admin|read]
// Creates an API token on the configured database (DATABASE_URL, or the embedded one in DATA_DIR)
// and prints its secret once: how an operator gets in on PostgreSQL without ADMIN_TOKEN.
import '../node-version.js'; // first: an older Node stops here, in one line
import { parseArgs } from 'node:util';
import { createApiToken } from '../auth/api-tokens.js';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrations.js';
import { UsageError, runCommand } from './command.js';

const usage = 'usage: npm run token:create -- [--name <what it is for>] [--scope admin|read]';

async function run(args: string[]): Promise<string> {
  let values: { name?: string; scope?: string };
  try {
    ({ values } = parseArgs({ args, options: { name: { type: 'string' }, scope: { type: 'string', default: 'admin' } }, strict: true }));
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
  const scope = values.scope?.toUpperCase();
  if (scope !== 'ADMIN' && scope !== 'READ') throw new UsageError(`--scope must be admin or read, got ${JSON.stringify(values.scope)}\n${usage}`);
  const name = values.name?.trim();
  if (name !== undefined && (name === '' || name.length > 1024)) throw new UsageError(`--name must be 1 to 1024 characters\n${usage}`);
  const db = await openDatabase(loadConfig().database);
  try {
    await applyMigrations(db.adapterFactory);
    const token = await createApiToken(db.prisma, { name, scope });
    return [
      `created ${scope} API token ${token.apiClient.id}${name ? ` (${name})` : ''} on ${db.description}`,
      `secret (shown this once): ${token.secret}`,
      `header: Authorization: ${token.authorization}`,
      `or: Authorization: Bearer ${token.secretKey}`,
    ].join('\n');
  } finally {
    await db.close();
  }
}

runCommand(() => run(process.argv.slice(2)), 'token:create failed:');
