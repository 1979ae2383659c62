// Session tokens as a backend sees them: verified by jose against our JWKS, never by asking us;
// and as sessiongraph sees them coming back: every way a token can be wrong is refused.
import { SignJWT, createLocalJWKSet, createRemoteJWKSet, customFetch, decodeJwt, decodeProtectedHeader, generateKeyPair, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.js';
import { memoryStore } from '../../src/rate-limit.js';
import { createApp } from '../../src/server.js';
import { adminAuthorization, createTestApp, testConfig, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createBrowserSession, createIdentity, type BrowserSession } from '../support/sessions.js';

const mint = `mutation ($input: CreateSessionTokenInput!) { createSessionToken(input: $input) { token { object jwt issuedAt expiresAt template } } }`;
const whoami = '{ viewer { session { id } } }';
type Minted = { createSessionToken: { token: { object: string; jwt: string; issuedAt: string; expiresAt: string; template: string | null } } };

describe.each(databaseTargets)('session tokens on $name', (target) => {
  let t: TestApp;
  let clock = Date.now();
  let identityId: string;
  let me: BrowserSession;
  beforeAll(async () => {
    t = await createTestApp(target, { now: () => new Date(clock), env: { TOKEN_ISSUER: 'https://auth.example.test', RATE_LIMIT_AUTH_FAILURES: '100000' } });
    identityId = await createIdentity(t, { email: 'ada@example.com', name: { first: 'Ada' } });
    me = await createBrowserSession(t, identityId);
  });
  afterAll(async () => {
    await t.dispose();
  });

  const jwks = async () => (await (await t.app.fetch('http://sessiongraph.test/.well-known/jwks.json')).json()) as JSONWebKeySet;
  async function tokenFor(session: BrowserSession, input: Record<string, unknown> = {}, authorization = session.authorization) {
    const result = await t.graphql<Minted>(mint, { input: { sessionId: session.id, ...input } }, { authorization });
    expect(result.errors).toBeUndefined();
    return result.data!.createSessionToken.token.jwt;
  }
  const asBearer = (jwt: string) => t.graphql<{ viewer: { session: { id: string } } }>(whoami, {}, { authorization: `Bearer ${jwt}` });

  it("makes Clerk's default session token, which jose verifies against the JWKS", async () => {
    const result = await t.graphql<Minted>(mint, { input: { sessionId: me.id, authorizedParty: 'https://app.example.test' } }, { authorization: me.authorization });
    const token = result.data!.createSessionToken.token;
    expect(token).toMatchObject({ object: 'token', template: null });
    const set = await jwks();
    expect(set.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig', kid: expect.stringMatching(/^sgjwk_/) });
    expect(set.keys[0]).not.toHaveProperty('d');
    const { payload, protectedHeader } = await jwtVerify(token.jwt, createLocalJWKSet(set), { issuer: 'https://auth.example.test', currentDate: new Date(clock) });
    expect(protectedHeader).toMatchObject({ alg: 'RS256', typ: 'JWT' });
    expect(payload).toEqual({
      sid: me.id,
      sub: identityId,
      iat: Math.floor(clock / 1000),
      nbf: Math.floor(clock / 1000),
      exp: Math.floor(clock / 1000) + 60,
      iss: 'https://auth.example.test',
      azp: 'https://app.example.test',
      v: 2,
    });
    const headers = await t.app.fetch('http://sessiongraph.test/.well-known/jwks.json');
    expect(headers.headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('never makes a token that outlives its session: exp is cut at the session\'s end in the token, the answer and the event, however it is minted', async () => {
    expect((await t.graphql('mutation { createJwtTemplate(input: { name: "hour", lifetimeSeconds: 3600 }) { template { name } } }')).errors).toBeUndefined();
    const endsAt = clock + 20_500;
    const end = Math.floor(endsAt / 1000);
    // One session a way of minting: each writes its event once (they are throttled per session).
    const ways: Record<string, (session: BrowserSession) => Promise<string>> = {
      itself: (session) => tokenFor(session), // the session's own token read and the event written in one statement
      admin: (session) => tokenFor(session, {}, adminAuthorization),
      template: (session) => tokenFor(session, { template: 'hour' }), // the event written after the token is made
    };
    for (const [way, mintFor] of Object.entries(ways)) {
      const session = await createBrowserSession(t, identityId, { expiresAt: new Date(endsAt).toISOString() });
      const jwt = await mintFor(session);
      expect(decodeJwt(jwt).exp, way).toBe(end);
      const event = await t.db.prisma.sessionEvent.findFirst({ where: { sessionId: session.id.slice('Session:'.length), type: 'SESSION_TOKEN_ISSUED' } });
      expect(event?.details, way).toEqual({ template: way === 'template' ? 'hour' : null, expiresAt: new Date(end * 1000).toISOString() });
    }
    // The answer says the same, and a session with no end keeps the lifetime.
    const ending = await createBrowserSession(t, identityId, { expiresAt: new Date(endsAt).toISOString() });
    const answer = await t.graphql<Minted>(mint, { input: { sessionId: ending.id } });
    expect(answer.data!.createSessionToken.token.expiresAt).toBe(new Date(end * 1000).toISOString());
    expect(decodeJwt(await tokenFor(me)).exp).toBe(Math.floor(clock / 1000) + 60);
    expect((await t.graphql('mutation { deleteJwtTemplate(input: { name: "hour" }) { __typename } }')).errors).toBeUndefined();
  });

  it('accepts a token as the session it stands for, and refuses expired, early, foreign, tampered and unsigned ones', async () => {
    const jwt = await tokenFor(me);
    expect((await asBearer(jwt)).data?.viewer.session.id).toBe(me.id);
    // Expired: past exp plus the 5 s default skew.
    clock += 66_000;
    expect((await asBearer(jwt)).errors?.[0]?.extensions).toMatchObject({ code: 'UNAUTHENTICATED', reason: 'TOKEN_EXPIRED' });
    // Not yet valid: a clock behind the issuer's by more than the skew.
    const later = await tokenFor(me);
    clock -= 30_000;
    expect((await asBearer(later)).errors?.[0]).toMatchObject({ message: expect.stringMatching(/not valid yet/), extensions: { reason: 'TOKEN_NOT_YET_VALID' } });
    clock += 30_000;
    // Signed by a key we never published, under one of our kids.
    const { privateKey } = await generateKeyPair('RS256');
    const forged = await new SignJWT(decodeJwt(later)).setProtectedHeader({ alg: 'RS256', kid: decodeProtectedHeader(later).kid! }).sign(privateKey);
    expect((await asBearer(forged)).errors?.[0]).toMatchObject({ message: expect.stringMatching(/signature does not verify/), extensions: { reason: 'TOKEN_INVALID' } });
    // Tampered: another session's id in the payload.
    const [head, body, signature] = later.split('.');
    const tampered = Buffer.from(JSON.stringify({ ...decodeJwt(later), sid: 'Session:00000000-0000-7000-8000-000000000000' })).toString('base64url');
    expect((await asBearer(`${head}.${tampered}.${signature}`)).errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect(body).not.toBe(tampered);
    // alg: none, no signature.
    const none = `${Buffer.from(JSON.stringify({ alg: 'none', kid: decodeProtectedHeader(later).kid })).toString('base64url')}.${body}.`;
    expect((await asBearer(none)).errors?.[0]?.message).toMatch(/must be signed with one of RS256, ES256/);
  });

  /** `me` mints on a second server on the same database, with these settings. */
  async function mintOnAnotherServer(env: Record<string, string>): Promise<{ data?: Minted; errors?: { message: string; extensions: { code: string } }[] }> {
    const rateLimits = memoryStore();
    const other = createApp({ db: t.db, logger: createLogger('error', () => {}), config: testConfig(env), rateLimits, now: () => new Date(clock) });
    try {
      const response = await other.fetch('http://other.test/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: me.authorization },
        body: JSON.stringify({ query: mint, variables: { input: { sessionId: me.id } } }),
      });
      return (await response.json()) as { data?: Minted; errors?: { message: string; extensions: { code: string } }[] };
    } finally {
      await rateLimits.close();
    }
  }

  it('refuses a token made for another issuer, even one signed with our own keys', async () => {
    // Same database and secret (so the same keys), another TOKEN_ISSUER.
    const jwt = (await mintOnAnotherServer({ TOKEN_ISSUER: 'https://other.example.test' })).data!.createSessionToken.token.jwt;
    expect(decodeJwt(jwt).iss).toBe('https://other.example.test');
    expect((await asBearer(jwt)).errors?.[0]?.message).toMatch(/iss claim is not this server's/);
  });

  it('answers TOKENS_NOT_CONFIGURED, not an internal error, on a server whose TOKEN_KEY_SECRET did not seal the keys', async () => {
    await tokenFor(me); // the keys exist, sealed with this server's secret
    const body = await mintOnAnotherServer({ TOKEN_KEY_SECRET: 'another-token-key-secret-7Hq2Lx9Wm4Pz' });
    expect(body.errors?.[0]).toMatchObject({ message: expect.stringContaining('TOKEN_KEY_SECRET'), extensions: { code: 'TOKENS_NOT_CONFIGURED' } });
  });

  it('publishes each algorithm\'s signing key and its next key before the first token, so a key set fetched before a rotation verifies the tokens after it', async () => {
    // Both algorithms' keys, signing and next, though only RS256 has signed yet.
    const early = await jwks();
    expect(early.keys.map((k) => k.alg)).toEqual(['RS256', 'ES256', 'RS256', 'ES256']);
    const listed = async () => (await t.graphql<{ signingKeys: { kid: string; algorithm: string; activatedAt: string | null; retiredAt: string | null }[] }>('{ signingKeys { kid algorithm activatedAt retiredAt } }')).data!.signingKeys;
    const nextKid = (await listed()).find((k) => k.algorithm === 'RS256' && k.activatedAt === null && k.retiredAt === null)!.kid;
    expect(early.keys.map((k) => k.kid)).toContain(nextKid);
    // A backend's jose key set, fetched once now, through the real handler.
    let fetches = 0;
    const remote = createRemoteJWKSet(new URL('http://sessiongraph.test/.well-known/jwks.json'), {
      [customFetch]: async (url: string, init: RequestInit) => (fetches++, await t.app.fetch(url, init)),
    });
    await jwtVerify(await tokenFor(me), remote, { currentDate: new Date(clock) });
    expect(fetches).toBe(1);

    // The next key was published a moment ago: verifiers may not have it yet, so rotating now is refused...
    const rotate = (extra = '') => t.graphql<{ rotateSigningKey: { key: { kid: string; activatedAt: string } } }>(`mutation { rotateSigningKey(input: { algorithm: RS256${extra} }) { key { kid activatedAt } } }`);
    const tooSoon = await rotate();
    expect(tooSoon.errors?.[0]?.extensions).toMatchObject({ code: 'KEY_NOT_PUBLISHED_LONG_ENOUGH', field: 'input.immediate' });
    // ...until it has been in the JWKS longer than its max-age (and this server's own cache of it).
    clock += 331_000;
    const before = await tokenFor(me);
    const oldKid = decodeProtectedHeader(before).kid;
    const rotated = await rotate();
    expect(rotated.errors).toBeUndefined();
    expect(rotated.data!.rotateSigningKey.key.kid).toBe(nextKid);
    const after = await tokenFor(me);
    expect(decodeProtectedHeader(after).kid).toBe(nextKid);
    // Both verify against the key set fetched before the rotation, without jose fetching it again.
    for (const jwt of [before, after]) {
      await jwtVerify(jwt, remote, { currentDate: new Date(clock) });
      await jwtVerify(jwt, createLocalJWKSet(early), { currentDate: new Date(clock) });
      expect((await asBearer(jwt)).data?.viewer.session.id).toBe(me.id);
    }
    expect(fetches).toBe(1);
    // The set now has a new next key, and keeps the retired one.
    const keys = await listed();
    const rs256 = keys.filter((k) => k.algorithm === 'RS256');
    expect(rs256.filter((k) => k.activatedAt === null)).toHaveLength(1);
    expect(rs256.find((k) => k.kid === oldKid)?.retiredAt).toEqual(expect.any(String));
    expect((await jwks()).keys.map((k) => k.kid)).toEqual(expect.arrayContaining([oldKid, nextKid, ...rs256.filter((k) => !k.activatedAt).map((k) => k.kid)]));
    // After a leak there is no waiting: `immediate` promotes the brand-new next key at once.
    const urgent = await rotate(', immediate: true');
    expect(urgent.errors).toBeUndefined();
    expect(decodeProtectedHeader(await tokenFor(me)).kid).toBe(urgent.data!.rotateSigningKey.key.kid);
    // Past the longest a token may live, the retired keys leave the set.
    clock += (86_400 + 301) * 1000;
    try {
      expect((await jwks()).keys.map((k) => k.kid)).not.toContain(oldKid);
      expect((await jwks()).keys.map((k) => k.kid)).not.toContain(nextKid);
    } finally {
      clock -= (86_400 + 301) * 1000; // the sessions of the tests below live a day
    }
  });

  it('resolves template placeholders, signs ES256 when asked, and never lets a template override a default', async () => {
    const created = await t.graphql(
      `mutation ($claims: JSON!) { createJwtTemplate(input: { name: "backend", claims: $claims, lifetimeSeconds: 300, allowedClockSkewSeconds: 10, algorithm: ES256 }) { template { name lifetimeSeconds algorithm } } }`,
      { claims: { email: '{{identity.traits.email}}', greeting: 'Hello {{identity.traits.name.first}}!', plan: '{{identity.metadataPublic.plan}}', session: { id: '{{session.id}}', status: '{{session.status}}' }, fixed: 42 } },
    );
    expect(created.errors).toBeUndefined();
    // Kratos' tokenize_as: the calling session, as a token, in the same query as viewer.
    const viewer = await t.graphql<{ viewer: { session: { id: string }; sessionToken: { jwt: string; template: string } } }>(
      '{ viewer { session { id } sessionToken(template: "backend") { jwt template } } }',
      {},
      { authorization: me.authorization },
    );
    expect(viewer.errors).toBeUndefined();
    const { jwt } = viewer.data!.viewer.sessionToken;
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(await jwks()), { currentDate: new Date(clock) });
    expect(protectedHeader.alg).toBe('ES256');
    expect(payload).toMatchObject({ email: 'ada@example.com', greeting: 'Hello Ada!', plan: null, session: { id: me.id, status: 'ACTIVE' }, fixed: 42, sid: me.id, sub: identityId, tpl: 'backend' });
    expect(payload.exp! - payload.iat!).toBe(300);
    expect((await asBearer(jwt)).data?.viewer.session.id).toBe(me.id);

    // A missing template is named where the caller wrote it: the argument, or the input field.
    const missing = await Promise.all([
      t.graphql('{ viewer { sessionToken(template: "nope") { jwt } } }', {}, { authorization: me.authorization }),
      t.graphql('mutation ($id: ID!) { createSessionToken(input: { sessionId: $id, template: "nope" }) { token { jwt } } }', { id: me.id }),
    ]);
    expect(missing.map((r) => [r.errors?.[0]?.extensions?.code, r.errors?.[0]?.extensions?.field])).toEqual([
      ['NOT_FOUND', 'template'],
      ['NOT_FOUND', 'input.template'],
    ]);

    const refusals = await Promise.all([
      t.graphql('mutation { createJwtTemplate(input: { name: "bad", claims: { sub: "someone-else" } }) { template { name } } }'),
      t.graphql('mutation { createJwtTemplate(input: { name: "bad", claims: { x: "{{secrets.admin}}" } }) { template { name } } }'),
      t.graphql('mutation { createJwtTemplate(input: { name: "bad name!", claims: {} }) { template { name } } }'),
      t.graphql('mutation { createJwtTemplate(input: { name: "bad", claims: {}, lifetimeSeconds: 0 }) { template { name } } }'),
      t.graphql('mutation { createJwtTemplate(input: { name: "backend", claims: {} }) { template { name } } }'),
    ]);
    expect(refusals.map((r) => r.errors?.[0]?.extensions?.field)).toEqual(['input.claims.sub', 'input.claims.x', 'input.name', 'input.lifetimeSeconds', 'input.name']);
    expect(refusals.every((r) => r.errors?.[0]?.extensions?.code === 'BAD_USER_INPUT')).toBe(true);
    const listed = await t.graphql<{ jwtTemplates: { name: string }[] }>('{ jwtTemplates { name } }');
    expect(listed.data!.jwtTemplates.map((x) => x.name)).toEqual(['backend']);
  });

  it('refuses templates naming anything but the data a token may carry, or too large for a header, naming the claim', async () => {
    const create = (claims: unknown) => t.graphql('mutation ($claims: JSON!) { createJwtTemplate(input: { name: "probe", claims: $claims }) { template { name } } }', { claims });
    const refusals: [unknown, string, RegExp][] = [
      [{ x: '{{identity.traits.toString}}' }, 'input.claims.x', /"toString", which every object inherits/],
      [{ x: 'Hi {{identity.traits.__proto__}}' }, 'input.claims.x', /"__proto__", which every object inherits/],
      [{ a: { b: ['fine', '{{identity.traits.name.constructor}}'] } }, 'input.claims.a.b[1]', /"constructor"/],
      [{ x: '{{identity.metadataAdmin}}' }, 'input.claims.x', /names no field of identity; it may read identity.id, .*identity.traits/],
      [{ x: '{{session.id.length}}' }, 'input.claims.x', /reads into session.id, which is not a JSON object/],
      [{ blob: 'x'.repeat(5000) }, 'input.claims', /take 50\d\d bytes as JSON; a token's claims may take at most 4096/],
    ];
    for (const [claims, field, message] of refusals) {
      const answer = await create(claims);
      expect(answer.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field });
      expect(answer.errors?.[0]?.message).toMatch(message);
    }
    const updated = await t.graphql('mutation { updateJwtTemplate(input: { name: "backend", claims: { x: "{{identity.traits.valueOf}}" } }) { template { name } } }');
    expect(updated.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.claims.x' });

    // A template stored before these checks mints all the same: placeholders read own data only.
    await t.db.prisma.jwtTemplate.create({ data: { name: 'legacy', claims: { s: '{{identity.traits.toString}}', p: '{{identity.traits.__proto__}}', t: 'x{{identity.traits.constructor}}y', e: '{{identity.traits.email}}' } } });
    const legacy = await t.graphql<Minted>(mint, { input: { sessionId: me.id, template: 'legacy' } });
    expect(legacy.errors).toBeUndefined();
    expect(decodeJwt(legacy.data!.createSessionToken.token.jwt)).toMatchObject({ s: null, p: null, t: 'xy', e: 'ada@example.com' });

    // Claims that fit as written but not once filled in for this identity: the mint is refused, naming the template.
    expect((await create({ bio: '{{identity.traits.bio}}' })).errors).toBeUndefined();
    const wordy = await createIdentity(t, { bio: 'w'.repeat(5000) });
    const session = await createBrowserSession(t, wordy);
    const tooLarge = await t.graphql(mint, { input: { sessionId: session.id, template: 'probe' } });
    expect(tooLarge.errors?.[0]?.extensions).toMatchObject({ code: 'BAD_USER_INPUT', field: 'input.template' });
    expect(tooLarge.errors?.[0]?.message).toMatch(/Template "probe" filled for this session takes 5\d{3} bytes as JSON; a token's claims may take at most 4096/);
    expect((await t.graphql(mint, { input: { sessionId: me.id, template: 'probe' } })).errors).toBeUndefined();
  });

  it('mints only for active sessions, and a session only for itself', async () => {
    const other = await createBrowserSession(t, identityId);
    const forOther = await t.graphql(mint, { input: { sessionId: other.id } }, { authorization: me.authorization });
    expect(forOther.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: other.id });
    const revoked = await t.graphql(mint, { input: { sessionId: other.id } });
    expect(revoked.errors?.[0]?.extensions?.code).toBe('SESSION_NOT_ACTIVE');
  });

  it("answers Clerk's verify for backends, with a code for every way a token fails", async () => {
    const verify = `query ($token: String!) { verifySessionToken(token: $token) { session { id status } expiresAt } }`;
    const jwt = await tokenFor(me);
    expect((await t.graphql<{ verifySessionToken: { session: { id: string } } }>(verify, { token: jwt })).data?.verifySessionToken.session.id).toBe(me.id);
    expect((await t.graphql<{ verifySessionToken: { session: { id: string } } }>(verify, { token: me.token })).data?.verifySessionToken.session.id).toBe(me.id);
    expect((await t.graphql(verify, { token: 'sgt_nothing' })).errors?.[0]?.extensions?.code).toBe('TOKEN_INVALID');
    expect((await t.graphql(verify, { token: jwt }, { authorization: me.authorization })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    clock += 70_000;
    expect((await t.graphql(verify, { token: jwt })).errors?.[0]?.extensions?.code).toBe('TOKEN_EXPIRED');
    const fresh = await tokenFor(me);
    const session = await createBrowserSession(t, identityId);
    const theirs = await tokenFor(session);
    await t.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: session.id });
    expect((await t.graphql(verify, { token: theirs })).errors?.[0]?.extensions?.code).toBe('SESSION_NOT_ACTIVE');
    expect((await t.graphql(verify, { token: fresh })).errors).toBeUndefined();
    // Without strict revocation, the revoked session's token is refused once the revocation set has the event...
    await expect.poll(async () => (await asBearer(theirs)).errors?.[0]?.message, { timeout: 1000, interval: 20 }).toMatch(/no longer active/);
    // ...with it, by reading the session.
    const strict = await createTestApp(target, { now: () => new Date(clock), env: { STRICT_TOKEN_REVOCATION: 'true', TOKEN_ISSUER: 'https://auth.example.test' } });
    try {
      const s = await createBrowserSession(strict, await createIdentity(strict));
      const token = (await strict.graphql<Minted>(mint, { input: { sessionId: s.id } })).data!.createSessionToken.token.jwt;
      expect((await strict.graphql(whoami, {}, { authorization: `Bearer ${token}` })).errors).toBeUndefined();
      await strict.graphql('mutation ($id: ID!) { adminRevokeSession(input: { sessionId: $id }) { session { id } } }', { id: s.id });
      expect((await strict.graphql(whoami, {}, { authorization: `Bearer ${token}` })).errors?.[0]?.message).toMatch(/no longer active/);
    } finally {
      await strict.dispose();
    }
  });
});
