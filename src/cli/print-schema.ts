// npm run schema:print: writes schema.graphql (the client-facing schema) and subgraph.graphql (the
// federation SDL) from the builder, so schema changes show in diffs and tools need no running server.
import '../node-version.js'; // first: an older Node stops here, in one line
import { writeFileSync } from 'node:fs';
import { printedSchema, printedSubgraph, schemaFile, subgraphFile } from '../schema/print.js';

writeFileSync(schemaFile, printedSchema());
writeFileSync(subgraphFile, printedSubgraph());
console.log(`wrote ${schemaFile} and ${subgraphFile}`);
