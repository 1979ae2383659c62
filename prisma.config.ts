// Prisma CLI configuration. sessiongraph applies migrations itself (npm run db:migrate, through
// Prisma's WebAssembly schema engine), but with a network `prisma migrate deploy` works too: it reads
// DATABASE_URL from here.
import { defineConfig } from 'prisma/config';

// `prisma generate` needs no schema engine, yet the CLI downloads the native one before it starts
// unless PRISMA_SCHEMA_ENGINE_BINARY names a file. Pointing it at the running node binary lets
// generation run offline; every other command keeps the real engine.
if (process.argv.includes('generate')) {
  process.env.PRISMA_SCHEMA_ENGINE_BINARY ??= process.execPath;
}

export default defineConfig({
  schema: 'prisma/schema.prisma',
  migrations: { path: 'prisma/migrations' },
  datasource: { url: process.env.DATABASE_URL ?? '' },
});
