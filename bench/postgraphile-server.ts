// The peer to measure against: PostGraphile 5 with its Amber preset over the same tables, no auth
// (it plans each operation into one statement and shapes rows once), and the connection-filter
// preset, without which it has no way to read a list of rows by id (100 aliased node(id:) fields
// cost it about 60 ms of CPU a request in a quick run). Started as its own process by
// bench/run.ts with DATABASE_URL; prints its port when it listens.
import { createServer } from 'node:http';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';
import { PostGraphileConnectionFilterPreset } from 'postgraphile-plugin-connection-filter';

const pgl = postgraphile({
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ['public'], poolConfig: { max: Number(process.env.DATABASE_POOL_SIZE ?? 10) } })],
  grafserv: { graphqlPath: '/graphql', graphiql: false },
});
const serv = pgl.createServ(grafserv);
const server = createServer();
server.on('error', (error) => {
  process.stderr.write(`postgraphile peer: ${error.message}\n`);
  process.exit(1);
});
serv.addTo(server).then(
  () =>
    server.listen(0, '127.0.0.1', () => {
      process.stdout.write(`${JSON.stringify({ port: (server.address() as { port: number }).port })}\n`);
    }),
  (error: unknown) => {
    process.stderr.write(`postgraphile peer: ${(error as Error).message}\n`);
    process.exit(1);
  },
);
process.on('SIGTERM', () => {
  server.close();
  void pgl.release();
  process.exit(0);
});
