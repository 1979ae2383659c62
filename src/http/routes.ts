// The routes beside /graphql: / sends people to GraphiQL, /healthz says the process is up, /readyz
// that the database answers too, /.well-known/jwks.json publishes the session tokens' keys. /readyz tells a caller only `ok`, `degraded` (serving, but rate
// limits count per instance because Redis is away) or `unavailable` (503); the reasons go to the log.
import type { Plugin } from 'graphql-yoga';
import { DatabaseOpening, type Database } from '../db/database.js';
import type { Logger } from '../logger.js';
import type { RateLimitStore } from '../rate-limit.js';
import { jwksMaxAgeSeconds, type KeyStore } from '../tokens/keys.js';
import { livenessAnswer, livenessPath } from './listener.js';

export function routesPlugin(db: Database, rateLimits: RateLimitStore, logger: Logger, keys: KeyStore | undefined): Plugin {
  return {
    async onRequest({ url, endResponse }) {
      if (url.pathname === '/') {
        endResponse(new Response(null, { status: 302, headers: { location: '/graphql' } }));
      } else if (url.pathname === livenessPath) {
        endResponse(Response.json(livenessAnswer));
      } else if (url.pathname === '/.well-known/jwks.json') {
        // Verifiers cache it for max-age: a key is published at least that long before it signs.
        const jwks = keys ? await keys.jwks() : { keys: [] };
        endResponse(Response.json(jwks, { headers: { 'cache-control': `public, max-age=${jwksMaxAgeSeconds}` } }));
      } else if (url.pathname === '/readyz') {
        try {
          await db.ping();
        } catch (error) {
          // Still opening at start: not ready, and nothing wrong.
          if (!(error instanceof DatabaseOpening)) logger.error('not ready: the database does not answer', { error: (error as Error).message });
          endResponse(Response.json({ status: 'unavailable' }, { status: 503 }));
          return;
        }
        endResponse(Response.json({ status: rateLimits.healthy() ? 'ok' : 'degraded' }));
      }
    },
  };
}
