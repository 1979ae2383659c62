// The routes beside /graphql: / sends people to GraphiQL, /healthz says the process is up, /readyz
// that the database answers too. /readyz tells a caller only `ok`, `degraded` (serving, but rate
// limits count per instance because Redis is away) or `unavailable` (503); the reasons go to the log.
import type { Plugin } from 'graphql-yoga';
import type { Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { RateLimitStore } from '../rate-limit.js';

export function routesPlugin(db: Database, rateLimits: RateLimitStore, logger: Logger): Plugin {
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname === '/') {
        endResponse(new Response(null, { status: 302, headers: { location: '/graphql' } }));
      } else if (url.pathname === '/healthz') {
        endResponse(Response.json({ status: 'ok' }));
      } else if (url.pathname === '/readyz') {
        try {
          await db.ping();
        } catch (error) {
          logger.error('not ready: the database does not answer', { error: (error as Error).message });
          endResponse(Response.json({ status: 'unavailable' }, { status: 503 }));
          return;
        }
        endResponse(Response.json({ status: rateLimits.healthy() ? 'ok' : 'degraded' }));
      }
    },
  };
}
