// npm run db:template: builds the embedded database template for the current migrations (the
// install step runs it, so a new data directory starts in about a second).
import '../node-version.js'; // first: an older Node stops here, in one line
import { buildTemplate } from '../db/pglite-template.js';

buildTemplate().then(
  (path) => {
    console.log(`embedded database template: ${path}`);
  },
  (error: unknown) => {
    // Not fatal: without a template, new databases are initialized the slower way.
    console.error(`could not build the embedded database template: ${error instanceof Error ? error.message : String(error)}`);
  },
);
