// What a webhook request says. STANDARD (Standard Webhooks): `{type, timestamp, data}`, with `type`
// the event's dotted name and `data` the event with its session and identity ids. CLERK (Clerk's
// webhooks, sent through Svix): `{type, object: "event", timestamp, data}` with Clerk's Session
// JSON as `data`, for the session events Clerk itself sends. A payload is fixed when the delivery is
// enqueued, so every retry sends the same bytes under the same webhook id.
import { encodeGlobalId } from '../domain/global-id.js';
import type { SessionEvent } from '../generated/prisma/client.js';
import type { SessionEventType, WebhookFormat } from '../generated/prisma/enums.js';

/** The dotted type receivers see for each event type. */
export const webhookEventTypes: Record<SessionEventType, string> = {
  SESSION_CREATED: 'session.created',
  SESSION_IMPORTED: 'session.imported',
  SESSION_ACTIVITY_RECORDED: 'session.activity_recorded',
  SESSION_EXTENDED: 'session.extended',
  SESSION_REVOKED: 'session.revoked',
  OTHER_SESSIONS_REVOKED: 'session.others_revoked',
  SESSION_EXPIRED: 'session.expired',
  SESSION_ABANDONED: 'session.abandoned',
  SESSION_TOKEN_ISSUED: 'session.token_issued',
  CREDENTIAL_ADDED: 'credential.added',
  CREDENTIAL_REVOKED: 'credential.revoked',
  IDENTITY_CREATED: 'identity.created',
  IDENTITY_IMPORTED: 'identity.imported',
  IDENTITY_STATE_CHANGED: 'identity.state_changed',
};

/** The event types a CLERK endpoint may subscribe to: those Clerk has a session webhook for. */
export const clerkEventTypes: readonly SessionEventType[] = ['SESSION_CREATED', 'SESSION_REVOKED', 'SESSION_IMPORTED'];

// An import brings Clerk's own status; the statuses Clerk sends a webhook for.
const clerkImportedStatuses: Record<string, string> = { REVOKED: 'session.revoked', ENDED: 'session.ended', REMOVED: 'session.removed', PENDING: 'session.pending' };

/** Clerk's type for an event (`session.revoked`), or undefined when Clerk would send none. */
export function clerkEventType(event: Pick<SessionEvent, 'type' | 'details' | 'sessionId'>): string | undefined {
  if (!event.sessionId) return undefined;
  if (event.type === 'SESSION_CREATED') return 'session.created';
  if (event.type === 'SESSION_REVOKED') return 'session.revoked';
  if (event.type === 'SESSION_IMPORTED') return clerkImportedStatuses[String((event.details as { status?: unknown } | null)?.status)];
  return undefined;
}

/** The event as STANDARD's `data`: ids are global ids, as GraphQL shows them. */
export function eventData(event: SessionEvent): Record<string, unknown> {
  const id = (type: string, value: string | null) => (value === null ? null : encodeGlobalId(type, value));
  return {
    id: encodeGlobalId('SessionEvent', event.id),
    type: event.type,
    sequence: event.sequence.toString(),
    occurredAt: event.occurredAt.toISOString(),
    identityId: id('Identity', event.identityId),
    sessionId: id('Session', event.sessionId),
    credentialId: id('Credential', event.credentialId),
    actorSessionId: id('Session', event.actorSessionId),
    actorApiTokenId: event.actorApiClientId,
    reason: event.reason,
    details: event.details ?? null,
  };
}

export function standardPayload(event: SessionEvent): string {
  return JSON.stringify({ type: webhookEventTypes[event.type], timestamp: event.occurredAt.toISOString(), data: eventData(event) });
}

export function clerkPayload(type: string, occurredAt: Date, session: object): string {
  return JSON.stringify({ type, object: 'event', timestamp: occurredAt.getTime(), data: session });
}

/** sendTestWebhook's message, in the endpoint's format. */
export function testPayload(format: WebhookFormat, endpointId: string, now: Date): string {
  const data = { endpointId: encodeGlobalId('WebhookEndpoint', endpointId), message: 'A test message from sessiongraph' };
  return format === 'CLERK'
    ? JSON.stringify({ type: 'webhook.test', object: 'event', timestamp: now.getTime(), data })
    : JSON.stringify({ type: 'webhook.test', timestamp: now.toISOString(), data });
}
