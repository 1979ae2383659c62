// A token mint without the resolvers: createSessionToken for `Session:<uuid>` without a template,
// by the session itself (its token's lookup left pending: the mint's one statement checks it) or
// by an admin. The minting is tokens/issue.ts', the same as the resolver's; this only answers the
// payload as JSON. Anything else — a template, a vendor id, a refusal — the resolvers answer, with
// their errors (a refused mint wrote nothing).
import { GraphQLError, getArgumentValues } from 'graphql';
import type { Context } from '../../context.js';
import { parseGlobalId } from '../../domain/global-id.js';
import { issueSessionToken } from '../../tokens/issue.js';
import type { IssuedToken } from '../../tokens/session-tokens.js';
import type { Collected } from '../selection.js';
import { payloadJson } from './operation.js';
import type { PlannedWrite } from './create-session.js';

const unanswered: PlannedWrite = { payload: undefined, wroteEvents: false };

function tokenJson(fields: Collected[], token: IssuedToken): string {
  return payloadJson(fields, (name) => {
    switch (name) {
      case 'object': return '"token"';
      case 'jwt': return JSON.stringify(token.jwt);
      case 'issuedAt': return JSON.stringify(token.issuedAt.toISOString());
      case 'expiresAt': return JSON.stringify(token.expiresAt.toISOString());
      case 'template': return JSON.stringify(token.template);
      default: return '"SessionToken"';
    }
  });
}

export async function createSessionToken(field: Collected, ctx: Context, variables: Record<string, unknown>): Promise<PlannedWrite> {
  if (!ctx.tokens) return unanswered;
  const { input } = getArgumentValues(field.def, field.node, variables) as { input: { sessionId: unknown; template?: string | null; authorizedParty?: string | null } };
  const parsed = typeof input.sessionId === 'string' ? parseGlobalId(input.sessionId.trim()) : undefined;
  if (parsed?.typename !== 'Session' || input.template != null) return unanswered;
  let token: IssuedToken;
  try {
    token = await issueSessionToken(ctx, parsed.id, { authorizedParty: input.authorizedParty });
  } catch (error) {
    // A credential that does not authenticate is the request's 401; any other refusal is the resolvers' to give.
    if (error instanceof GraphQLError && error.extensions.code !== 'UNAUTHENTICATED') return unanswered;
    throw error;
  }
  const payload = `{${field.children!.map((child) => `${JSON.stringify(child.key)}:${child.name === 'token' ? tokenJson(child.children!, token) : '"CreateSessionTokenPayload"'}`).join(',')}}`;
  // issueSessionToken told the feed of its event itself.
  return { payload, wroteEvents: false };
}
