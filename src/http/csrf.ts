// CSRF prevention for POST: a body a cross-site form or script could send without a CORS preflight
// (text/plain, form encodings, no content type) must carry a header such a page cannot set.
// GET is left alone when its credentials travel in the Authorization header, which no cross-site
// page can attach: such a GET can only run queries (Yoga refuses mutations over GET). A browser
// attaches the session cookie by itself, though, so a GET that would authenticate by the cookie
// must carry the header too.
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';
import { requestCredentials } from '../auth/caller.js';

export function csrfPreventionPlugin(sessionCookie: string): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight'] });
  return {
    onRequestParse(payload) {
      const { headers, method } = payload.request;
      if (method === 'GET' && !requestCredentials(headers, sessionCookie).fromCookie) return;
      return csrf.onRequestParse?.(payload);
    },
  };
}
