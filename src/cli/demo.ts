// npm run demo: loads the demo sample into the configured database (DATABASE_URL, or the embedded
// one in DATA_DIR; stop an embedded server first). Safe to run again.
import '../node-version.js'; // first: an older Node stops here, in one line
import { loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import { applyMigrations } from '../db/migrations.js';
import { loadDemo } from '../demo/load.js';
import { runCommand } from './command.js';

async function run(): Promise<string> {
  const config = loadConfig();
  const db = await openDatabase(config.database);
  try {
    await applyMigrations(db.adapterFactory);
    const { imported, signedRevocation, backendTemplate } = await loadDemo(db, config);
    const lines = Object.entries(imported).map(
      ([vendor, s]) => `  ${vendor.toLowerCase()}: ${s.sessionsCreated} new sessions${s.sessionsKept > 0 ? `, ${s.sessionsKept} already there and left as they are` : ''}`,
    );
    return [
      `demo data loaded into ${db.description}:`,
      ...lines,
      signedRevocation ? '  a laptop signed a lost phone out (signed revocation)' : '  the signed-revocation account was already there',
      backendTemplate ? '  the JWT template "backend"' : '  the JWT template "backend" was already there',
      'Try the example query in GraphiQL with the admin token (see the README).',
    ].join('\n');
  } finally {
    await db.close();
  }
}

runCommand(run, 'demo failed:');
