// CSRF prevention for POST: a body a cross-site form or script could send without a CORS preflight
// (text/plain, form encodings, no content type) must carry a header such a page cannot set.
// GET is left alone: it can only run queries (Yoga refuses mutations over GET), and the
// credentials sessiongraph accepts travel in the Authorization header, which no cross-site
// page can attach, so a cross-site GET is anonymous and sees nothing but the schema.
import { useCSRFPrevention } from '@graphql-yoga/plugin-csrf-prevention';
import type { Plugin } from 'graphql-yoga';

export function csrfPreventionPlugin(): Plugin {
  const csrf = useCSRFPrevention({ requestHeaders: ['x-graphql-yoga-csrf', 'apollo-require-preflight'] });
  return {
    onRequestParse(payload) {
      if (payload.request.method === 'GET') return;
      return csrf.onRequestParse?.(payload);
    },
  };
}
