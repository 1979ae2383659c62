// npm run db:migrate            apply pending migrations to the configured database
// npm run db:migrate:new <name> write the next migration from changes to prisma/schema.prisma
// npm run db:migrate:check      exit 1 when schema.prisma has changes no migration captures
import '../node-version.js'; // first: an older Node stops here, in one line
import { relative } from 'node:path';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/database.js';
import {
  MigrationNameError,
  applyMigrations,
  createMigration,
  pendingSchemaChanges,
} from '../db/migrations.js';

const usage = 'usage: migrate apply | migrate new <name> | migrate check';

async function run(command: string | undefined, args: string[]): Promise<number> {
  switch (command) {
    case 'apply': {
      const config = loadConfig();
      const db = await openDatabase(config.database);
      try {
        const applied = await applyMigrations(db.adapterFactory);
        console.log(
          applied.length === 0
            ? `${db.description}: already up to date`
            : `${db.description}: applied ${applied.join(', ')}`,
        );
      } finally {
        await db.close();
      }
      return 0;
    }
    case 'new': {
      const name = args.join(' ');
      if (!name) {
        console.error('migrate new: give the migration a name, e.g. npm run db:migrate:new -- add_device_index');
        return 1;
      }
      const folder = await createMigration(name);
      console.log(
        folder
          ? `wrote ${relative(process.cwd(), folder)}/migration.sql`
          : 'prisma/schema.prisma matches the migration history: nothing to write',
      );
      return 0;
    }
    case 'check': {
      const sql = await pendingSchemaChanges();
      if (sql === null) {
        console.log('prisma/migrations matches prisma/schema.prisma');
        return 0;
      }
      console.error('prisma/schema.prisma has changes no migration captures; run npm run db:migrate:new -- <name>:\n');
      console.error(sql);
      return 1;
    }
    default:
      console.error(usage);
      return 1;
  }
}

const [command, ...args] = process.argv.slice(2);
run(command, args).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof MigrationNameError) {
      console.error(`sessiongraph: ${error.message}`);
    } else {
      console.error(`migrate ${command} failed: ${error instanceof Error ? error.message : String(error)}`);
    }
    process.exit(1);
  },
);
