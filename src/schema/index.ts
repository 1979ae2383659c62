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

export const schema = builder.toSchema({ sortSchema: true });
