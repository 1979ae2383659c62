// npm run schema:print: writes schema.graphql from the builder, so reviewers see schema changes in
// diffs and clients can generate types without running the server.
import { writeFileSync } from 'node:fs';
import { printedSchema, schemaFile } from '../schema/print.js';

writeFileSync(schemaFile, printedSchema());
console.log(`wrote ${schemaFile}`);
