// Session tokens (Clerk's "create a session token", with or without a JWT template; Kratos'
// tokenize_as), the templates, the signing keys, and Clerk's verify for backends that cannot
// check a JWT themselves. The keys are published at /.well-known/jwks.json.
import { requireAdmin } from '../auth/guards.js';
import { builder } from '../builder.js';
import { resolveId } from '../domain/vendor-ids.js';
import { codedError } from '../errors.js';
import type { JwtTemplate, SigningKey } from '../generated/prisma/client.js';
import { argumentFields, issueSessionToken, tokensOf, verifyPresentedToken } from '../tokens/issue.js';
import { NextKeyTooNew, signingAlgorithms } from '../tokens/keys.js';
import type { IssuedToken } from '../tokens/session-tokens.js';
import { claimsProblem } from '../tokens/templates.js';
import { invalidField, jsonObject } from './input.js';
import { SessionNode } from './session.js';
import { ViewerType } from './viewer.js';

export const SigningAlgorithmEnum = builder.enumType('SigningAlgorithm', {
  description: 'How a session token is signed: RS256 (RSA, what most verifiers accept; the default) or ES256 (ECDSA P-256).',
  values: Object.fromEntries(signingAlgorithms.map((alg) => [alg, { value: alg }])) as Record<(typeof signingAlgorithms)[number], { value: (typeof signingAlgorithms)[number] }>,
});

export const SubjectSourceEnum = builder.enumType('TokenSubjectSource', {
  description: 'What a token\'s `sub` claim holds.',
  values: {
    ID: { value: 'id', description: 'The identity\'s global id (`Identity:<uuid>`).' },
    EXTERNAL_ID: { value: 'external_id', description: 'The identity\'s vendor id (Clerk `user_…`, Kratos uuid, Grid account) when it has one, else its global id.' },
  } as const,
});

const SessionTokenType = builder.objectRef<IssuedToken>('SessionToken').implement({
  description: 'A signed session token (Clerk\'s `{ object: "token", jwt }`): verify it against /.well-known/jwks.json.',
  fields: (t) => ({
    object: t.string({ description: 'Always "token", as Clerk answers.', resolve: () => 'token' }),
    jwt: t.exposeString('jwt', { description: 'The JWT (compact JWS).' }),
    issuedAt: t.expose('issuedAt', { type: 'DateTime', description: 'Its `iat`.' }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', description: 'Its `exp`.' }),
    template: t.exposeString('template', { nullable: true, description: 'The template it was made from; null for the default session token.' }),
  }),
});

export const JwtTemplateType = builder.prismaObject('JwtTemplate', {
  description: 'Claims added to session tokens made from it (Clerk JWT templates, Kratos tokenizer templates).',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'How callers name it (`template`).' }),
    claims: t.expose('claims', { type: 'JSON', description: 'The claims; strings may hold placeholders such as {{identity.traits.email}}.' }),
    lifetimeSeconds: t.exposeInt('lifetimeSeconds', { description: 'How long its tokens live.' }),
    allowedClockSkewSeconds: t.exposeInt('allowedClockSkewSeconds', { description: 'Clock skew allowed when its tokens are checked.' }),
    algorithm: t.field({ type: SigningAlgorithmEnum, description: 'How its tokens are signed.', resolve: (tpl) => tpl.algorithm as (typeof signingAlgorithms)[number] }),
    subjectSource: t.field({ type: SubjectSourceEnum, description: 'What `sub` holds.', resolve: (tpl) => tpl.subjectSource as 'id' | 'external_id' }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was created.' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime', description: 'When it last changed.' }),
  }),
});

const SigningKeyType = builder.objectRef<SigningKey>('SigningKey').implement({
  description: 'A key that signs (or signed) session tokens. Its private half never leaves the server.',
  fields: (t) => ({
    kid: t.exposeString('id', { description: 'The JWK `kid`.' }),
    algorithm: t.field({ type: SigningAlgorithmEnum, description: 'Its algorithm.', resolve: (key) => key.algorithm as (typeof signingAlgorithms)[number] }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When it was made and published.' }),
    activatedAt: t.expose('activatedAt', { type: 'DateTime', nullable: true, description: 'When it started signing; null while it is the published next key.' }),
    retiredAt: t.expose('retiredAt', { type: 'DateTime', nullable: true, description: 'When a newer key took over; null while it signs or waits.' }),
    publishedUntil: t.expose('publishedUntil', { type: 'DateTime', nullable: true, description: 'Until when the JWKS still lists it; null while it signs or waits.' }),
  }),
});

builder.relayMutationField(
  'createSessionToken',
  {
    description: 'What createSessionToken needs.',
    inputFields: (t) => ({
      sessionId: t.id({ required: true, description: 'The session (`Session:<uuid>` or an imported session\'s vendor id); a session caller may name only itself.' }),
      template: t.string({ required: false, description: 'A JWT template\'s name: its claims are added. Without it, Clerk\'s default session token.' }),
      authorizedParty: t.string({ required: false, description: 'The origin the token is for (`azp`).' }),
    }),
  },
  {
    description: 'Makes a short-lived session token (a JWT) for an active session: an admin for any session, a session for itself.',
    resolve: async (_root, { input }, ctx) => ({
      token: await issueSessionToken(ctx, await resolveId(ctx.prisma, input.sessionId, 'Session'), { template: input.template, authorizedParty: input.authorizedParty }),
    }),
  },
  {
    description: 'The token.',
    outputFields: (t) => ({ token: t.field({ type: SessionTokenType, description: 'The signed token.', resolve: (p) => p.token }) }),
  },
);

builder.objectField(ViewerType, 'sessionToken', (t) =>
  t.field({
    type: SessionTokenType,
    nullable: true,
    description: 'The calling session as a token, from a template if named (Kratos `tokenize_as`); null for an API token.',
    args: {
      template: t.arg.string({ required: false, description: 'A JWT template\'s name.' }),
      authorizedParty: t.arg.string({ required: false, description: 'The origin the token is for (`azp`).' }),
    },
    resolve: (viewer, args, ctx) =>
      viewer.sessionId ? issueSessionToken(ctx, viewer.sessionId, { template: args.template, authorizedParty: args.authorizedParty, tokenize: args.template != null, fields: argumentFields }) : null,
  }),
);

const VerifiedSessionType = builder.objectRef<{ sessionId: string; expiresAt: Date | null }>('VerifiedSession').implement({
  description: 'A session token that is valid now, and its session.',
  fields: (t) => ({
    session: t.field({ type: SessionNode, description: 'The session it stands for.', resolve: (v, _args, ctx) => ctx.loaders.session.load(v.sessionId).then((s) => s!) }),
    expiresAt: t.expose('expiresAt', { type: 'DateTime', nullable: true, description: 'When the token expires (a JWT), or the session does (an opaque token).' }),
  }),
});

builder.queryField('verifySessionToken', (t) =>
  t.field({
    type: VerifiedSessionType,
    description:
      'Checks a session token — a JWT from createSessionToken, or an opaque session token — for backends that cannot verify it themselves (Clerk\'s verify; API tokens). A token that is not valid now is an error with a code: TOKEN_INVALID, TOKEN_EXPIRED, TOKEN_NOT_YET_VALID or SESSION_NOT_ACTIVE.',
    args: { token: t.arg.string({ required: true, description: 'The token.' }) },
    resolve: (_root, { token }, ctx) => verifyPresentedToken(ctx, token),
  }),
);

/** A template's settings, checked; each problem names its field. */
function templateData(input: {
  name?: string | null;
  claims?: unknown;
  lifetimeSeconds?: number | null;
  allowedClockSkewSeconds?: number | null;
  algorithm?: string | null;
  subjectSource?: string | null;
}, maxLifetimeSeconds: number) {
  const data: Partial<Pick<JwtTemplate, 'name' | 'lifetimeSeconds' | 'allowedClockSkewSeconds' | 'algorithm' | 'subjectSource'>> & { claims?: object } = {};
  if (input.name != null) {
    const name = input.name.trim();
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(name)) throw invalidField('input.name', 'must be 1 to 64 letters, digits, "_" or "-"');
    data.name = name;
  }
  if (input.claims !== undefined) {
    const problem = claimsProblem(input.claims);
    if (problem) throw invalidField(`input.${problem[0]}`, problem[1]);
    data.claims = jsonObject(input.claims, 'input.claims');
  }
  if (input.lifetimeSeconds != null) {
    if (input.lifetimeSeconds < 1 || input.lifetimeSeconds > maxLifetimeSeconds) {
      throw invalidField('input.lifetimeSeconds', `must be from 1 to ${maxLifetimeSeconds} (MAX_SESSION_TOKEN_LIFETIME_SECONDS)`);
    }
    data.lifetimeSeconds = input.lifetimeSeconds;
  }
  if (input.allowedClockSkewSeconds != null) {
    if (input.allowedClockSkewSeconds < 0 || input.allowedClockSkewSeconds > 300) throw invalidField('input.allowedClockSkewSeconds', 'must be from 0 to 300');
    data.allowedClockSkewSeconds = input.allowedClockSkewSeconds;
  }
  if (input.algorithm != null) data.algorithm = input.algorithm;
  if (input.subjectSource != null) data.subjectSource = input.subjectSource;
  return data;
}

const templateFields = (t: PothosSchemaTypes.InputFieldBuilder<import('../builder.js').SchemaTypes, 'InputObject'>) => ({
  claims: t.field({ type: 'JSON', required: false, description: 'Claims as a JSON object; strings may hold placeholders ({{identity.traits.email}}, {{session.id}}).' }),
  lifetimeSeconds: t.int({ required: false, description: 'How long its tokens live (default 60).' }),
  allowedClockSkewSeconds: t.int({ required: false, description: 'Clock skew allowed when checking its tokens, 0 to 300 (default 5).' }),
  algorithm: t.field({ type: SigningAlgorithmEnum, required: false, description: 'RS256 (default) or ES256 (Clerk\'s SDK verifies RS256 only).' }),
  subjectSource: t.field({ type: SubjectSourceEnum, required: false, description: 'What `sub` holds (default ID).' }),
});

builder.queryField('jwtTemplates', (t) =>
  t.prismaField({
    type: [JwtTemplateType],
    description: 'Every JWT template, by name (admin).',
    resolve: (query, _root, _args, ctx) => {
      requireAdmin(ctx);
      return ctx.prisma.jwtTemplate.findMany({ ...query, orderBy: { name: 'asc' } });
    },
  }),
);

const uniqueName = (error: unknown, name: string | undefined) => {
  if ((error as { code?: string }).code === 'P2002') throw invalidField('input.name', `a template named ${JSON.stringify(name)} exists already`);
  throw error;
};

builder.relayMutationField(
  'createJwtTemplate',
  { description: 'What createJwtTemplate needs.', inputFields: (t) => ({ name: t.string({ required: true, description: 'Its name.' }), ...templateFields(t) }) },
  {
    description:
      'Creates a JWT template (admin). Placeholders may name the fields of identity and session a token may carry, and own fields of the JSON in identity.traits, identity.metadataPublic and session.actor; anything else is refused, naming the claim (BAD_USER_INPUT). Claims may take at most 4096 bytes as JSON, filled in as well as written. ES256 tokens suit verifiers that accept ECDSA, such as jose: Clerk\'s SDK (@clerk/backend) verifies RS256 only.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const data = templateData(input, ctx.auth.tokens.maxLifetimeSeconds);
      const template = await ctx.prisma.jwtTemplate.create({ data: { ...data, name: data.name! } }).catch((e) => uniqueName(e, data.name));
      return { template };
    },
  },
  { description: 'The new template.', outputFields: (t) => ({ template: t.field({ type: JwtTemplateType, description: 'The template.', resolve: (p) => p.template }) }) },
);

builder.relayMutationField(
  'updateJwtTemplate',
  {
    description: 'What updateJwtTemplate needs: the template\'s name, and what changes.',
    inputFields: (t) => ({
      name: t.string({ required: true, description: 'The template to change.' }),
      newName: t.string({ required: false, description: 'A new name.' }),
      ...templateFields(t),
    }),
  },
  {
    description: 'Changes a JWT template (admin). Tokens already made keep what they say.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const data = templateData({ ...input, name: input.newName }, ctx.auth.tokens.maxLifetimeSeconds);
      const { count } = await ctx.prisma.jwtTemplate.updateMany({ where: { name: input.name }, data }).catch((e) => uniqueName(e, data.name));
      if (count === 0) throw codedError('NOT_FOUND', `No JWT template named ${JSON.stringify(input.name)}`, { field: 'input.name' });
      return { template: await ctx.prisma.jwtTemplate.findUniqueOrThrow({ where: { name: data.name ?? input.name } }) };
    },
  },
  { description: 'The changed template.', outputFields: (t) => ({ template: t.field({ type: JwtTemplateType, description: 'The template.', resolve: (p) => p.template }) }) },
);

builder.relayMutationField(
  'deleteJwtTemplate',
  { description: 'What deleteJwtTemplate needs.', inputFields: (t) => ({ name: t.string({ required: true, description: 'The template to delete.' }) }) },
  {
    description: 'Deletes a JWT template (admin). Its tokens stay valid until they expire.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      const { count } = await ctx.prisma.jwtTemplate.deleteMany({ where: { name: input.name } });
      if (count === 0) throw codedError('NOT_FOUND', `No JWT template named ${JSON.stringify(input.name)}`, { field: 'input.name' });
      return { name: input.name };
    },
  },
  { description: 'What was deleted.', outputFields: (t) => ({ name: t.string({ description: 'The deleted template\'s name.', resolve: (p) => p.name }) }) },
);

builder.queryField('signingKeys', (t) =>
  t.field({
    type: [SigningKeyType],
    description: 'Every session-token signing key, newest first (admin). The published ones are at /.well-known/jwks.json.',
    resolve: (_root, _args, ctx) => {
      requireAdmin(ctx);
      return tokensOf(ctx).keys.list();
    },
  }),
);

builder.relayMutationField(
  'rotateSigningKey',
  {
    description: 'What rotateSigningKey needs.',
    inputFields: (t) => ({
      algorithm: t.field({ type: SigningAlgorithmEnum, required: false, description: 'Which key to rotate (default RS256).' }),
      immediate: t.boolean({
        required: false,
        description:
          'Rotate even though the next key has been published for less than the JWKS max-age (after a key leaked, say): verifiers holding an older key set refuse the new key\'s tokens until they fetch the JWKS again.',
      }),
    }),
  },
  {
    description:
      'Promotes the published next key to signing and publishes a new next key (admin). A key is in the JWKS at least its max-age (300 s) before it signs, so a verifier with a key set that old verifies every token; rotating sooner is refused (KEY_NOT_PUBLISHED_LONG_ENOUGH) unless `immediate`. The old key stays in the JWKS until the last token it signed has expired, then leaves it.',
    resolve: async (_root, { input }, ctx) => {
      requireAdmin(ctx);
      try {
        return { key: await tokensOf(ctx).keys.rotate(input.algorithm ?? 'RS256', { immediate: input.immediate ?? false }) };
      } catch (error) {
        if (error instanceof NextKeyTooNew) throw codedError('KEY_NOT_PUBLISHED_LONG_ENOUGH', error.message, { field: 'input.immediate' });
        throw error;
      }
    },
  },
  { description: 'The new key.', outputFields: (t) => ({ key: t.field({ type: SigningKeyType, description: 'The key that signs from now on.', resolve: (p) => p.key }) }) },
);
