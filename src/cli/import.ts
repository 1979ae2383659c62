// npm run import -- --from grid|kratos|clerk <file.json>
// Loads a vendor's own session export into the configured database (DATABASE_URL, or the embedded
// database in DATA_DIR), all or nothing, matching records by the vendor's ids.
import '../node-version.js'; // first: an older Node stops here, in one line
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrations.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { ImportError, importDocument } from '../import/index.js';
import { jsonProblem } from '../text.js';
import { UsageError, runCommand } from './command.js';

const usage = 'usage: npm run import -- --from grid|kratos|clerk <file.json>';
const vendors: Record<string, Vendor> = { grid: 'GRID', kratos: 'KRATOS', clerk: 'CLERK' };

async function run(argv: string[]): Promise<string> {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: { from: { type: 'string' } }, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`${(error as Error).message}\n${usage}`);
  }
  const source = vendors[parsed.values.from?.toLowerCase() ?? ''];
  if (!source) throw new UsageError(`--from must be grid, kratos or clerk\n${usage}`);
  const [file, ...extra] = parsed.positionals;
  if (!file || extra.length) throw new UsageError(`give exactly one file\n${usage}`);

  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ImportError('(file)', `not valid JSON: ${(error as Error).message}`);
  }

  // Bounded as the GraphQL path bounds it (importSessions): deeper JSON is refused, not recursed into.
  const config = loadConfig();
  const problem = jsonProblem(document, config.limits.maxInputDepth);
  if (problem) throw new ImportError('(file)', problem.startsWith('nests deeper') ? `${problem} (MAX_INPUT_DEPTH)` : problem);

  const db = await openDatabase(config.database);
  try {
    await applyMigrations(db.adapterFactory);
    const summary = await importDocument(db, source, document);
    return (
      `${file}: ${summary.sessionIds.length} sessions (${summary.sessionsCreated} new, ${summary.sessionsUpdated} updated), ` +
      `identities ${summary.identitiesCreated} new, ${summary.identitiesUpdated} updated, into ${db.description}`
    );
  } finally {
    await db.close();
  }
}

runCommand(() => run(process.argv.slice(2)), 'import failed, nothing written:', (error) =>
  error instanceof ImportError ? `import refused, nothing written: ${error.message}` : undefined,
);
