// A signed operation's step two (confirmChallenge / confirmRevocation) without the resolvers: the
// confirmation is revocation/requests.ts' own (rate limit, challenge, signature, the checks and
// their errors); for a signed revocation of one session its one writing statement also answers the
// payload as JSON, shaped by the read planner's session object over the revoked row. Any other
// outcome — another operation, an error — the confirmation settles on the context, and the
// resolvers answer with it (nothing is confirmed twice).
import { getArgumentValues, getNamedType } from 'graphql';
import type { Context } from '../../context.js';
import { confirmShaped } from '../../revocation/requests.js';
import { revokedAlias } from '../../revocation/service.js';
import { literal, json, object, Statement, typename } from '../json.js';
import { sessionObject } from '../objects.js';
import { callerBuild } from '../reads.js';
import type { Collected } from '../selection.js';
import type { PlannedWrite } from './create-session.js';

const unanswered: PlannedWrite = { payload: undefined, wroteEvents: false };

export async function confirmChallenge(field: Collected, ctx: Context, variables: Record<string, unknown>): Promise<PlannedWrite> {
  if (!ctx.caller) return unanswered;
  const { input } = getArgumentValues(field.def, field.node, variables) as { input: { requestId: string; signature: string } };
  const sql = new Statement();
  const build = callerBuild(sql, ctx, variables);
  // What a signed revocation of one session answers: that session, revoked, and it alone in revokedSessions.
  let payloadSql: string;
  try {
    payloadSql = object(field.children!, (child) => {
      switch (child.name) {
        case 'operation': return literal('"REVOKE_SESSION"');
        case 'session': return json(sessionObject(child.children!, revokedAlias, build));
        case 'revokedSessions': return json(`('[' || ${sessionObject(child.children!, revokedAlias, build)} || ']')`);
        default: return typename(getNamedType(field.def.type).name);
      }
    });
  } catch {
    // Nothing is confirmed yet: the resolvers do all of it.
    return unanswered;
  }
  // The statement takes its own parameters after the payload's, and fails (the request then errs, nothing written) as any other would.
  const payload = await confirmShaped(ctx, input.requestId, input.signature, { statement: sql, payloadSql });
  return payload === undefined ? unanswered : { payload, wroteEvents: false };
}
