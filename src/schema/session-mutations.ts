import { eventOrigin } from '../events/origin.js';
import { withEvents } from '../events/record.js';
import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import type { Prisma } from '../generated/prisma/client.js';
import { DeviceNode } from './device.js';
import { AuthenticatorAssuranceLevelEnum, CredentialTypeEnum } from './enums.js';
import { resolveId } from '../domain/vendor-ids.js';
import { deviceData, newSession, noSuchIdentity, sessionCreatedEvent } from '../domain/new-session.js';
import { optionalText } from './input.js';
import { SessionNode } from './session.js';
import { recordActivity } from '../sessions/activity.js';

const AuthenticationMethodInput = builder.inputType('AuthenticationMethodInput', {
  description: 'One step of how a session was authenticated.',
  fields: (t) => ({
    method: t.field({ type: CredentialTypeEnum, required: true, description: 'The method used.' }),
    aal: t.field({ type: AuthenticatorAssuranceLevelEnum, required: false, description: 'The assurance level it reached.' }),
    completedAt: t.field({ type: 'DateTime', required: false, description: 'When it was completed (default: now).' }),
    provider: t.string({ required: false, description: 'OIDC or SAML provider, for social sign-in.' }),
    organization: t.string({ required: false, description: 'The organization whose provider was used.' }),
  }),
});

const DeviceInput = builder.inputType('DeviceInput', {
  description: 'A device a session is used from.',
  fields: (t) => ({
    userAgent: t.string({ required: false, description: 'The device\'s User-Agent header.' }),
    ipAddress: t.string({ required: false, description: 'The IP address it connects from.' }),
    location: t.string({ required: false, description: 'Where it is, as a place name.' }),
  }),
});

builder.relayMutationField(
  'createSession',
  {
    description: 'What createSession needs.',
    inputFields: (t) => ({
      identityId: t.id({ required: true, description: 'Whose session it is (`Identity:<uuid>`, or an imported identity\'s vendor id).' }),
      type: t.field({ type: CredentialTypeEnum, required: true, description: 'Type of the credential that signed the identity in.' }),
      nickname: t.string({ required: false, description: 'A name for the session shown to its owner.' }),
      expiresAt: t.field({ type: 'DateTime', required: false, description: 'When the session expires (in the future); none when omitted.' }),
      abandonAt: t.field({ type: 'DateTime', required: false, description: 'When an unused session counts as abandoned (in the future).' }),
      clientId: t.string({ required: false, description: 'The client (browser or app install) the session lives in.' }),
      actor: t.field({ type: 'JSON', required: false, description: 'Who acts for the user in an impersonation session (a JSON object).' }),
      lastActiveOrganizationId: t.string({ required: false, description: 'The organization active in the session.' }),
      aal: t.field({ type: AuthenticatorAssuranceLevelEnum, required: false, description: 'The assurance level reached.' }),
      authenticationMethods: t.field({ type: [AuthenticationMethodInput], required: false, description: 'How the session was authenticated.' }),
      devices: t.field({ type: [DeviceInput], required: false, description: 'Devices the session starts on.' }),
      clientPublicKey: t.string({ required: false, description: 'The session\'s P-256 public key in hex (SEC1 compressed or uncompressed).' }),
    }),
  },
  {
    description: 'Creates a session for an identity (admin).',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const now = ctx.now();
      const identityId = await resolveId(ctx.prisma, input.identityId, 'Identity');
      const created = newSession(input, identityId, now);
      const { devices, sessionToken, ...columns } = created;
      const data: Prisma.SessionUncheckedCreateInput = {
        ...columns,
        authenticationMethods: columns.authenticationMethods as unknown as Prisma.InputJsonValue,
        actor: columns.actor as Prisma.InputJsonValue | undefined,
        devices: { create: devices },
      };
      if (!(await ctx.prisma.identity.findUnique({ where: { id: identityId }, select: { id: true } }))) throw noSuchIdentity(input.identityId);
      const session = await withEvents(ctx.prisma, ctx.events, async (tx, events) => {
        const row = await tx.session.create({ data });
        events.push(sessionCreatedEvent(created, eventOrigin(ctx)));
        return row;
      });
      return { session, sessionToken, encryptedSessionSigningKey: created.encryptedSigningKey ?? null };
    },
  },
  {
    description: 'The session createSession created, and its secrets: shown this once, never again.',
    outputFields: (t) => ({
      session: t.field({ type: SessionNode, description: 'The new session.', resolve: (payload) => payload.session }),
      sessionToken: t.string({
        description: 'The bearer token the session\'s client authenticates with (`Authorization: Bearer …`). Only its hash is stored.',
        resolve: (payload) => payload.sessionToken,
      }),
      encryptedSessionSigningKey: t.string({
        nullable: true,
        description:
          'When clientPublicKey was uncompressed (04…): the session\'s P-256 private key, generated by the server and sealed to clientPublicKey with HPKE (RFC 9180: DHKEM(P-256, HKDF-SHA256), HKDF-SHA256, AES-256-GCM; info "sessiongraph session signing key v1", aad the session id), base64url of enc || ciphertext. Null when the client kept its own key.',
        resolve: (payload) => payload.encryptedSessionSigningKey,
      }),
    }),
  },
);

builder.relayMutationField(
  'recordSessionActivity',
  {
    description: 'What recordSessionActivity needs.',
    inputFields: (t) => ({
      sessionId: t.id({ required: true, description: 'The session that was used (`Session:<uuid>`, or an imported session\'s vendor id).' }),
      userAgent: t.string({ required: false, description: 'The User-Agent of the request that used it.' }),
      ipAddress: t.string({ required: false, description: 'The IP address the request came from.' }),
      location: t.string({ required: false, description: 'Where that address is, as a place name.' }),
      organizationId: t.string({ required: false, description: 'The organization now active in the session.' }),
    }),
  },
  {
    description:
      'Records that an active session was just used (Kratos/Clerk "touch"): sets its last active time and upserts the device by user agent and IP address (admin).',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const sessionId = await resolveId(ctx.prisma, input.sessionId, 'Session');
      return recordActivity(ctx, ctx.eventThrottle, ctx.events, {
        sessionId,
        givenId: String(input.sessionId),
        device: deviceData(input, 'input'),
        organizationId: optionalText(input.organizationId, 'input.organizationId'),
        origin: eventOrigin(ctx),
        now: ctx.now(),
      });
    },
  },
  {
    description: 'The session recordSessionActivity touched, and the device it was used from.',
    outputFields: (t) => ({
      session: t.field({ type: SessionNode, description: 'The session, with its new last active time.', resolve: (payload) => payload.session }),
      device: t.field({
        type: DeviceNode,
        nullable: true,
        description: 'The device the activity came from; null when neither user agent nor IP address was given.',
        resolve: (payload) => payload.device,
      }),
    }),
  },
);
