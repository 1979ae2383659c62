// The audit trail: SessionEvent objects, read newest first as Relay connections (Identity.events,
// Session.events, the admin's Query.events) and live through Subscription.sessionEvents. A session
// sees its own identity's events only; who did it as an API token, why and from which address stay
// admin-only, as everywhere.
import { GraphQLError } from 'graphql';
import { unauthenticated } from '../auth/caller.js';
import { forbidden, requireCaller, seesAdminData, visibleIdentity } from '../auth/guards.js';
import { builder } from '../builder.js';
import type { Context } from '../context.js';
import { decodeGlobalId, encodeGlobalId } from '../domain/global-id.js';
import { resolveId } from '../domain/vendor-ids.js';
import { badUserInput, codedError } from '../errors.js';
import type { FeedItem } from '../events/feed.js';
import type { Prisma, SessionEvent } from '../generated/prisma/client.js';
import type { SessionEventType } from '../generated/prisma/enums.js';
import { SessionEventTypeEnum } from './enums.js';
import { lazy, pageBounds, type ConnectionArgs, type Page } from './pagination.js';

export const SessionEventNode = builder.prismaNode('SessionEvent', {
  description: 'One change to a session, identity or credential, recorded in the transaction that made it.',
  id: { field: 'id' },
  nullable: true,
  fields: (t) => ({
    type: t.expose('type', { type: SessionEventTypeEnum, description: 'What happened.' }),
    occurredAt: t.expose('occurredAt', { type: 'DateTime', description: 'When it happened (for EXPIRED / ABANDONED: the moment the time passed).' }),
    sequence: t.string({
      description: 'Its place among all events, the order subscriptions deliver them in (a decimal integer; larger is later; not consecutive). Resume a subscription after an event with `after: <its id>`.',
      resolve: (event) => event.sequence.toString(),
    }),
    identity: t.relation('identity', { description: 'The identity it concerns.' }),
    session: t.relation('session', { nullable: true, description: 'The session it concerns (for OTHER_SESSIONS_REVOKED: the one that stayed).' }),
    credential: t.relation('credential', { nullable: true, description: 'The credential it concerns (CREDENTIAL_ADDED / CREDENTIAL_REVOKED).' }),
    actorSession: t.relation('actorSession', {
      nullable: true,
      description: 'The session that made the change: the signer of a signed operation, or the session that minted a token.',
    }),
    actorApiTokenId: t.string({
      nullable: true,
      description: 'The API token that made the change; null for session callers.',
      resolve: (event, _args, ctx) => (seesAdminData(ctx) ? event.actorApiClientId : null),
    }),
    reason: t.string({
      nullable: true,
      description: 'Why, as an administrator gave it; null for session callers.',
      resolve: (event, _args, ctx) => (seesAdminData(ctx) ? event.reason : null),
    }),
    ipAddress: t.string({
      nullable: true,
      description: 'The address the change was requested from; null for session callers.',
      resolve: (event, _args, ctx) => (seesAdminData(ctx) ? event.ipAddress : null),
    }),
    details: t.expose('details', { type: 'JSON', nullable: true, description: 'Details that depend on the type (see SessionEventType).' }),
  }),
});

export const SessionEventConnection = builder.connectionObject(
  { type: SessionEventNode, name: 'SessionEventConnection', description: 'A page of events, newest first.' },
  { name: 'SessionEventEdge', description: 'An event in a page of events.' },
);

// Events are ordered by their sequence number alone, so the cursor is that number.
const cursorPrefix = 'e1:';

function encodeEventCursor(sequence: bigint): string {
  return Buffer.from(`${cursorPrefix}${sequence}`).toString('base64url');
}

function decodeEventCursor(cursor: string, argument: 'after' | 'before'): bigint {
  const match = /^e1:(\d{1,19})$/.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  if (!match) {
    throw badUserInput(`Invalid cursor ${JSON.stringify(cursor)} in "${argument}": use a cursor from this connection's edges or pageInfo`, { argument, value: cursor });
  }
  return BigInt(match[1]!);
}

/** A keyset page of events matching `where`, newest first. */
export async function eventPage(ctx: Context, where: Prisma.SessionEventWhereInput, args: ConnectionArgs): Promise<Page<SessionEvent>> {
  const { size, backward } = pageBounds(args, ctx.maxPageSize);
  const after = args.after ? decodeEventCursor(args.after, 'after') : undefined;
  const before = args.before ? decodeEventCursor(args.before, 'before') : undefined;
  // Newest first: "after" a cursor means older, a smaller sequence.
  const sequence = { ...(after !== undefined ? { lt: after } : {}), ...(before !== undefined ? { gt: before } : {}) };
  const rows = await ctx.prisma.sessionEvent.findMany({
    where: { AND: [where, { sequence }] },
    orderBy: { sequence: backward ? 'asc' : 'desc' },
    take: size + 1,
  });
  const more = rows.length > size;
  const page = more ? rows.slice(0, size) : rows;
  if (backward) page.reverse();
  const edges = page.map((node) => ({ cursor: encodeEventCursor(node.sequence), node }));
  const exists = (bound: Prisma.BigIntFilter) => lazy(async () => (await ctx.prisma.sessionEvent.findFirst({ where: { AND: [where, { sequence: bound }] }, select: { id: true } })) !== null);
  // Rows on the far side of the cursor we came from exist unless proven otherwise; ask only then.
  const newerThanAfter = (after !== undefined ? exists({ gte: after }) : false) as boolean;
  const olderThanBefore = (before !== undefined ? exists({ lte: before }) : false) as boolean;
  return {
    edges,
    pageInfo: {
      hasNextPage: backward ? olderThanBefore : more,
      hasPreviousPage: backward ? more : newerThanAfter,
      startCursor: edges[0]?.cursor ?? null,
      endCursor: edges.at(-1)?.cursor ?? null,
    },
    totalCount: () => ctx.prisma.sessionEvent.count({ where }),
  };
}

const typesArgument = { description: 'Only events of these types.' };

function typesWhere(types: readonly SessionEventType[] | null | undefined): Prisma.SessionEventWhereInput {
  // Enum lists are sets: [X × 500] is one condition, not 500.
  return types ? { type: { in: [...new Set(types)] } } : {};
}

builder.prismaObjectField('Identity', 'events', (t) =>
  t.field({
    type: SessionEventConnection,
    description: 'What happened to the identity, its sessions and credentials, newest first.',
    args: { ...t.arg.connectionArgs(), types: t.arg({ type: [SessionEventTypeEnum], required: false, ...typesArgument }) },
    resolve: (identity, args, ctx) => eventPage(ctx, { identityId: identity.id, ...typesWhere(args.types) }, args),
  }),
);

builder.prismaObjectField('Session', 'events', (t) =>
  t.field({
    type: SessionEventConnection,
    description: 'What happened to the session, newest first.',
    args: { ...t.arg.connectionArgs(), types: t.arg({ type: [SessionEventTypeEnum], required: false, ...typesArgument }) },
    resolve: (session, args, ctx) => eventPage(ctx, { sessionId: session.id, ...typesWhere(args.types) }, args),
  }),
);

const EventFilterInput = builder.inputType('SessionEventFilter', {
  description: 'Narrows the list of events; all given conditions must hold.',
  fields: (t) => ({
    identityId: t.id({ required: false, description: 'Only this identity\'s events (`Identity:<uuid>`, or an imported identity\'s vendor id).' }),
    sessionId: t.id({ required: false, description: 'Only this session\'s events (`Session:<uuid>`, or an imported session\'s vendor id).' }),
    types: t.field({ type: [SessionEventTypeEnum], required: false, ...typesArgument }),
    occurredAfter: t.field({ type: 'DateTime', required: false, description: 'Only events at or after this time.' }),
    occurredBefore: t.field({ type: 'DateTime', required: false, description: 'Only events before this time.' }),
  }),
});

builder.queryField('events', (t) =>
  t.field({
    type: SessionEventConnection,
    description: 'Every identity\'s events, newest first (API tokens; a session reads its own through `viewer.identity.events`).',
    args: { ...t.arg.connectionArgs(), filter: t.arg({ type: EventFilterInput, required: false, description: 'Which events.' }) },
    resolve: async (_root, args, ctx) => {
      if (requireCaller(ctx).kind !== 'apiClient') throw forbidden('Query.events is for API tokens; a session reads its own identity\'s events through viewer.identity.events');
      const filter = args.filter ?? {};
      const occurredAt = {
        ...(filter.occurredAfter ? { gte: filter.occurredAfter } : {}),
        ...(filter.occurredBefore ? { lt: filter.occurredBefore } : {}),
      };
      const where: Prisma.SessionEventWhereInput = {
        ...(filter.identityId != null ? { identityId: await resolveId(ctx.prisma, filter.identityId, 'Identity') } : {}),
        ...(filter.sessionId != null ? { sessionId: await resolveId(ctx.prisma, filter.sessionId, 'Session') } : {}),
        ...typesWhere(filter.types),
        ...(filter.occurredAfter || filter.occurredBefore ? { occurredAt } : {}),
      };
      return eventPage(ctx, where, args);
    },
  }),
);

/** The sequence number of the event a subscription resumes after, if the caller may see it. */
async function resumePoint(ctx: Context, eventId: string, argument: string, identityId: string | undefined): Promise<bigint> {
  let id: string;
  try {
    id = decodeGlobalId(eventId, 'SessionEvent').id;
  } catch {
    throw badUserInput(`${argument}: ${JSON.stringify(eventId)} is not an event id ("SessionEvent:<uuid>")`, { argument });
  }
  const event = await ctx.prisma.sessionEvent.findUnique({ where: { id }, select: { sequence: true, identityId: true } });
  if (!event || (identityId !== undefined && event.identityId !== identityId)) {
    throw codedError(
      'EVENT_NOT_FOUND',
      `${argument}: no event ${eventId} (events are kept EVENT_RETENTION_DAYS); read what you missed with the events connection, then subscribe without it`,
      { argument },
    );
  }
  return event.sequence;
}

builder.subscriptionType({ description: 'Live events.' });

builder.subscriptionField('sessionEvents', (t) =>
  t.field({
    type: SessionEventNode,
    nullable: false,
    description:
      'Events as they happen. A session receives its own identity\'s; an API token any one identity\'s, or all. ' +
      'When the subscribing session is revoked or expires (or its identity is deactivated) it receives that event, then the stream ends; a stream opened with a session token (JWT) ends when that token expires (reconnect with a fresh one and the last event id). ' +
      'Resume: pass the id of the last event seen as `after` (or, over SSE, send it as Last-Event-ID) to receive what was missed first — no gap, no duplicate. ' +
      'Errors: TOO_MANY_SUBSCRIPTIONS (MAX_SUBSCRIPTIONS_PER_CALLER), EVENT_NOT_FOUND (resume point purged), SLOW_CONSUMER (the stream ends; resume from the last id).',
    args: {
      identityId: t.arg.id({ required: false, description: 'Only this identity\'s events; a session may only name its own (the default). An API token gets every identity\'s when omitted.' }),
      types: t.arg({ type: [SessionEventTypeEnum], required: false, ...typesArgument }),
      after: t.arg.id({ required: false, description: 'Resume after this event (`SessionEvent:<uuid>`): missed events first, then live ones.' }),
    },
    subscribe: async (_root, args, ctx) => {
      const caller = requireCaller(ctx);
      let identityId: string | undefined;
      if (args.identityId != null) identityId = await resolveId(ctx.prisma, args.identityId, 'Identity');
      const own = visibleIdentity(ctx);
      if (own !== null) {
        // Another identity's events read exactly like an identity that does not exist.
        if (identityId !== undefined && identityId !== own) throw codedError('NOT_FOUND', `No Identity ${String(args.identityId)}`);
        identityId = own;
      }
      const resumeFrom = args.after ?? ctx.lastEventId;
      const afterSequence = resumeFrom ? await resumePoint(ctx, String(resumeFrom), args.after ? 'after' : 'Last-Event-ID', identityId) : undefined;
      const stream = await ctx.events.subscribe({
        filter: { identityId, types: args.types ? new Set(args.types) : undefined },
        afterSequence,
        callerKey: caller.kind === 'session' ? `session:${caller.sessionId}` : `api:${caller.clientId}`,
        sessionId: caller.kind === 'session' ? caller.sessionId : undefined,
        endsAt: caller.kind === 'session' ? caller.credentialExpiresAt : undefined,
      });
      // A JWT's session revoked between its check and the subscription's start: the stream would
      // never see that event, so the revocation set decides.
      if (caller.kind === 'session' && caller.credentialExpiresAt && (await ctx.tokens?.revoked(caller.sessionId, caller.identityId))) {
        await stream.return?.();
        throw unauthenticated('The session of this token is no longer active', 'SESSION_NOT_ACTIVE');
      }
      return stream;
    },
    resolve: (item: FeedItem, _args, ctx) => {
      if (item.kind === 'overflow') {
        throw new GraphQLError(
          `This subscription fell more than SUBSCRIPTION_MAX_QUEUED_EVENTS behind and ended; resume after ${item.lastEventId ?? 'the last event you saw'}`,
          { extensions: { code: 'SLOW_CONSUMER', lastEventId: item.lastEventId } },
        );
      }
      // The SSE `id:` line and the result's extensions.eventId (see http/event-stream.ts).
      ctx.deliveredEventId = encodeGlobalId('SessionEvent', item.event.id);
      return item.event;
    },
  }),
);
