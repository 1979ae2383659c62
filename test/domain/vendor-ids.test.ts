// The vendors' ids of imported records work wherever an identity or session id is taken; an unknown
// vendor id reads exactly like a missing id; node(id:) stays strict.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importDocument } from '../../src/import/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { projectRoot } from '../support/process.js';

const fixture = (name: string): unknown => JSON.parse(readFileSync(join(projectRoot, 'test/fixtures', name), 'utf8'));

describe.each(databaseTargets)('vendor ids on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
    await importDocument(t.db, 'GRID', fixture('grid-seed.json'));
    await importDocument(t.db, 'KRATOS', fixture('kratos-sessions.json'));
    await importDocument(t.db, 'CLERK', fixture('clerk-sessions.json'));
  });
  afterAll(async () => {
    await t.dispose();
  });

  const session = (id: string) => t.graphql<{ session: { id: string; externalId: string } | null }>('query ($id: ID!) { session(id: $id) { id externalId } }', { id });
  const identity = (id: string) => t.graphql<{ identity: { id: string; externalId: string } | null }>('query ($id: ID!) { identity(id: $id) { id externalId } }', { id });

  it("keeps Grid's and Kratos' uuids as ours, so Grid's Session:<uuid> is the same id here", async () => {
    expect((await session('Session:019542f5-b3e7-1d02-0000-000000000003')).data?.session).toEqual({
      id: 'Session:019542f5-b3e7-1d02-0000-000000000003',
      externalId: 'Session:019542f5-b3e7-1d02-0000-000000000003',
    });
    expect((await identity('InternalAccount:019542f5-b3e7-1d02-0000-000000000002')).data?.identity?.id).toBe('Identity:019542f5-b3e7-1d02-0000-000000000002');
    expect((await session('4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b')).data?.session?.id).toBe('Session:4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b');
    expect((await identity('7f3b5d0e-2a61-4c1e-9a8b-5d2f0c4e6a11')).data?.identity?.id).toBe('Identity:7f3b5d0e-2a61-4c1e-9a8b-5d2f0c4e6a11');
  });

  it("finds Clerk's records by sess_ and user_ ids, in reads, filters and mutations", async () => {
    const found = await session('sess_2pQmW8xYzA1bC3dE4fG5hI6jK7');
    expect(found.data?.session?.externalId).toBe('sess_2pQmW8xYzA1bC3dE4fG5hI6jK7');
    const user = await identity('user_2pQmV1aBcD2eF3gH4iJ5kL6mN7');
    expect(user.data?.identity?.externalId).toBe('user_2pQmV1aBcD2eF3gH4iJ5kL6mN7');
    const filtered = await t.graphql<{ sessions: { totalCount: number } }>('{ sessions(filter: { identityId: "user_2pQmV1aBcD2eF3gH4iJ5kL6mN7" }) { totalCount } }');
    expect(filtered.data?.sessions.totalCount).toBe(2);
    const revoked = await t.graphql<{ adminRevokeSession: { session: { id: string; status: string } } }>(
      'mutation { adminRevokeSession(input: { sessionId: "sess_2pQmW8xYzA1bC3dE4fG5hI6jK7" }) { session { id status } } }',
    );
    expect(revoked.data?.adminRevokeSession.session).toEqual({ id: found.data!.session!.id, status: 'REVOKED' });
  });

  it('reads an unknown vendor id exactly like a missing id, and keeps node(id:) strict', async () => {
    expect(await session('sess_nobodyImportedThis')).toEqual(await session('Session:00000000-0000-7000-8000-000000000000'));
    expect(await identity('user_nobodyImportedThis')).toEqual({ data: { identity: null } });
    expect(await identity('InternalAccount:00000000-0000-7000-8000-00000000ffff')).toEqual({ data: { identity: null } });
    const missing = await t.graphql('mutation { adminRevokeSession(input: { sessionId: "sess_nobodyImportedThis" }) { session { id } } }');
    const alsoMissing = await t.graphql('mutation { adminRevokeSession(input: { sessionId: "Session:00000000-0000-7000-8000-000000000000" }) { session { id } } }');
    expect(missing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(alsoMissing.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const strict = await t.graphql('{ node(id: "sess_2pQmW8xYzA1bC3dE4fG5hI6jK7") { id } }');
    expect(strict.errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
    expect((await session('not an id')).errors?.[0]?.extensions?.code).toBe('BAD_USER_INPUT');
  });

  it("puts the vendor's id in sub for a template whose subject source is EXTERNAL_ID", async () => {
    const created = await t.graphql('mutation { createJwtTemplate(input: { name: "vendor-sub", claims: {}, subjectSource: EXTERNAL_ID }) { template { name } } }');
    expect(created.errors).toBeUndefined();
    const minted = await t.graphql<{ createSessionToken: { token: { jwt: string } } }>(
      'mutation { createSessionToken(input: { sessionId: "sess_2pQmW8xYzA1bC3dE4fG5hI6jK7" }) { token { jwt } } }',
    );
    // Revoked above: only an active session gets a token.
    expect(minted.errors?.[0]?.extensions?.code).toBe('SESSION_NOT_ACTIVE');
    const kratos = await t.graphql<{ createSessionToken: { token: { jwt: string } } }>(
      'mutation { createSessionToken(input: { sessionId: "4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b", template: "vendor-sub" }) { token { jwt } } }',
    );
    expect(kratos.errors).toBeUndefined();
    const claims = JSON.parse(Buffer.from(kratos.data!.createSessionToken.token.jwt.split('.')[1]!, 'base64url').toString('utf8'));
    expect(claims).toMatchObject({ sub: '7f3b5d0e-2a61-4c1e-9a8b-5d2f0c4e6a11', sid: 'Session:4a1c2e3f-5b6d-4e7f-8a9b-0c1d2e3f4a5b', tpl: 'vendor-sub' });
  });
});
