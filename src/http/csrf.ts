// CSRF prevention for POST: a body a cross-site form or script could send without a CORS preflight
// (text/plain, form encodings, no content type) must carry a header such a page cannot set.
// GET is left alone when its credentials travel in the Authorization header, which no cross-site
// page can attach: such a GET can only run queries (Yoga refuses mutations over GET). A browser
// attaches the session cookie by itself, though, so a GET that would authenticate by the cookie
// must carry the header too.
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import { createGraphQLError, type Plugin } from 'graphql-yoga';
import { requestCredentials } from '../auth/caller.js';

const csrfHeaders = ['x-graphql-yoga-csrf', 'apollo-require-preflight'];

export function csrfPreventionPlugin(sessionCookie: string): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: csrfHeaders });
  return {
    onRequestParse(payload) {
      const { headers, method } = payload.request;
      if (method === 'GET' && !requestCredentials(headers, sessionCookie).fromCookie) return;
      try {
        return csrf.onRequestParse?.(payload);
      } catch (error) {
        // The plugin's refusal carries no code, and names no way out: ours does both.
        throw createGraphQLError(
          `Required CSRF header not present: send a JSON body (content-type: application/json), or the header ${csrfHeaders.join(' or ')} with any value`,
          { originalError: error as Error, extensions: { code: 'CSRF_HEADER_REQUIRED', http: { status: 403 } } },
        );
      }
    },
  };
}
