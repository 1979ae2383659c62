// The routes beside /graphql: / sends people to GraphiQL, /healthz says the process is up, /readyz
// that the database answers too.
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../db/database.js';

export function routesPlugin(db: Database): Plugin {
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname === '/') {
        endResponse(new Response(null, { status: 302, headers: { location: '/graphql' } }));
      } else if (url.pathname === '/healthz') {
        endResponse(Response.json({ status: 'ok' }));
      } else if (url.pathname === '/readyz') {
        try {
          await db.ping();
          endResponse(Response.json({ status: 'ok', database: 'ok' }));
        } catch (error) {
          endResponse(
            Response.json(
              { status: 'unavailable', database: (error as Error).message },
              { status: 503 },
            ),
          );
        }
      }
    },
  };
}

