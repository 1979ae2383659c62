// What an event records about who asked for the change: the API token (admin-only to read) or the
// session, and the client's address (admin-only to read).
import type { Context } from '../context.js';
import type { EventOrigin } from './record.js';

/** `signer`: the session whose signature authorized the change, when it was a signed operation. */
export function eventOrigin(ctx: Context, signer?: string): EventOrigin {
  const caller = ctx.caller;
  return {
    actorSessionId: signer ?? (caller?.kind === 'session' ? caller.sessionId : null),
    actorApiClientId: caller?.kind === 'apiClient' ? caller.clientId : null,
    ipAddress: ctx.clientAddress,
  };
}
