// Importing each domain file registers its types on the builder; the order does not matter.
import { builder } from '../builder.js';
import './scalars.js';
import './enums.js';
import './authentication-method.js';
import './address.js';
import './credential.js';
import './identity.js';
import './session.js';
import './device.js';
import './challenge.js';
import './query.js';
import './identity-mutations.js';
import './session-mutations.js';
import './import-mutation.js';
import './revocation-mutations.js';
import './admin-session-mutations.js';
import './api-client.js';
import './viewer.js';
import './session-tokens.js';
import './session-event.js';
import './webhook-delivery.js';
import './webhook-endpoint.js';
import './entities.js';
import { toSubgraphSchema } from './subgraph.js';

// A federation subgraph schema (with _service and _entities) that also serves clients directly.
export const schema = toSubgraphSchema(builder, {
  linkUrl: 'https://specs.apollo.dev/federation/v2.6',
  federationDirectives: ['@key', '@shareable'],
});
