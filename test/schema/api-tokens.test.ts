// API tokens: listed without their secrets, and revoked for good.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';

describe.each(databaseTargets)('API tokens on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('lists tokens without secrets, revokes one, and refuses its credentials from then on', async () => {
    const created = await t.graphql<{ createApiToken: { apiToken: { tokenId: string }; apiClient: { tokenId: string }; secret: string; authorization: string } }>(
      'mutation { createApiToken(input: { name: "reporting", scope: READ }) { apiToken { tokenId } apiClient { tokenId } secret authorization } }',
    );
    const { tokenId } = created.data!.createApiToken.apiToken;
    const { secret, authorization } = created.data!.createApiToken;
    // apiClient is the deprecated name of the same field, kept for existing clients.
    expect(created.data!.createApiToken.apiClient.tokenId).toBe(tokenId);
    expect((await t.graphql('{ viewer { apiToken { tokenId } apiClient { tokenId } } }', {}, { authorization })).data).toEqual({
      viewer: { apiToken: { tokenId }, apiClient: { tokenId } },
    });
    // A token is one indexed lookup straight to the driver, not a Prisma query.
    t.queries.length = 0;
    await t.graphql('{ __typename }', {}, { authorization });
    expect(t.queries).toEqual([expect.stringMatching(/FROM "public"."api_clients" WHERE id = \$1$/)]);
    // The wrong secret, an unknown id and an id PostgreSQL cannot hold are all just bad credentials.
    for (const credentials of [`${tokenId}:wrong`, 'sgk_unknown:x', `sgk_\0:x`]) {
      const refused = await t.graphql('{ __typename }', {}, { authorization: `Basic ${Buffer.from(credentials).toString('base64')}` });
      expect(refused.errors?.[0]?.extensions?.code, credentials).toBe('UNAUTHENTICATED');
    }

    const listed = await t.graphql<{ apiTokens: { tokenId: string; name: string; scope: string; revokedAt: string | null }[] }>(
      '{ apiTokens { tokenId name scope revokedAt } }',
    );
    expect(listed.data!.apiTokens).toContainEqual({ tokenId, name: 'reporting', scope: 'READ', revokedAt: null });
    expect(JSON.stringify(listed)).not.toContain(secret);
    // A read token may not list or revoke.
    expect((await t.graphql('{ apiTokens { tokenId } }', {}, { authorization })).errors?.[0]?.extensions?.code).toBe('FORBIDDEN');

    const revoke = `mutation ($id: String!) { revokeApiToken(input: { tokenId: $id }) { apiToken { tokenId revokedAt } apiClient { revokedAt } } }`;
    const revoked = await t.graphql<{ revokeApiToken: { apiToken: { revokedAt: string }; apiClient: { revokedAt: string } } }>(revoke, { id: tokenId });
    expect(revoked.data!.revokeApiToken.apiToken.revokedAt).toEqual(expect.any(String));
    expect(revoked.data!.revokeApiToken.apiClient.revokedAt).toBe(revoked.data!.revokeApiToken.apiToken.revokedAt);
    const refused = await t.graphql('{ viewer { apiToken { tokenId } } }', {}, { authorization });
    expect(refused.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
    expect((await t.graphql(revoke, { id: tokenId })).errors?.[0]?.extensions?.code).toBe('API_TOKEN_ALREADY_REVOKED');
    expect((await t.graphql(revoke, { id: 'sgk_missing' })).errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await t.graphql(revoke, { id: 'admin' })).errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT', field: 'input.tokenId' } });
    const active = await t.graphql<{ apiTokens: { tokenId: string }[] }>('{ apiTokens(includeRevoked: false) { tokenId } }');
    expect(active.data!.apiTokens.map((a) => a.tokenId)).not.toContain(tokenId);
  });
});
