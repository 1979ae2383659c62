// Kratos' fields as Kratos has them, on both read paths (the planner and the resolvers): the level
// derived from the methods, `tokenized` after tokenize_as, and an anonymous viewer answered 401.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets } from '../support/databases.js';
import { createIdentity } from '../support/sessions.js';
import { newSession } from '../support/vendors.js';

describe.each(databaseTargets.flatMap((target) => [{ target, planned: 'true' }, { target, planned: 'false' }]))(
  'Kratos fields on $target.name with PLANNED_READS=$planned',
  ({ target, planned }) => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp(target, { env: { PLANNED_READS: planned } });
    });
    afterAll(() => t?.dispose());

    it('derives aal from the methods when none was stored, as Kratos does', async () => {
      const identityId = await createIdentity(t, {});
      const cases = [
        { methods: [{ method: 'PASSWORD', aal: 'AAL1' }, { method: 'TOTP', aal: 'AAL2' }], aal: 'AAL2' },
        { methods: [{ method: 'PASSWORD', aal: 'AAL1' }], aal: 'AAL1' },
        { methods: [{ method: 'OIDC', aal: 'AAL2' }], aal: 'AAL2' },
        { methods: [{ method: 'WEBAUTHN', aal: 'AAL2' }], aal: 'AAL1' },
        { methods: [], aal: null },
      ];
      for (const { methods, aal } of cases) {
        const session = await newSession(t, identityId, { authenticationMethods: methods });
        const read = await t.graphql<{ session: { aal: string | null } }>('query ($id: ID!) { session(id: $id) { aal } }', { id: session.id });
        expect(read.data!.session.aal, JSON.stringify(methods)).toBe(aal);
      }
      const stored = await newSession(t, identityId, { aal: 'AAL3', authenticationMethods: [{ method: 'PASSWORD', aal: 'AAL1' }] });
      const viewer = await t.graphql<{ viewer: { session: { aal: string } } }>('{ viewer { session { aal } } }', {}, { authorization: `Bearer ${stored.token}` });
      expect(viewer.data!.viewer.session.aal).toBe('AAL3');
    });

    it('keeps the token of tokenize_as as Session.tokenized', async () => {
      await t.graphql('mutation { createJwtTemplate(input: { name: "tokenize", claims: {} }) { template { name } } }');
      const identityId = await createIdentity(t, {});
      const session = await newSession(t, identityId);
      const auth = { authorization: `Bearer ${session.token}` };
      const minted = await t.graphql<{ viewer: { sessionToken: { jwt: string } } }>('{ viewer { sessionToken(template: "tokenize") { jwt } } }', {}, auth);
      expect(minted.errors).toBeUndefined();
      const read = await t.graphql<{ viewer: { session: { tokenized: string } } }>('{ viewer { session { tokenized } } }', {}, auth);
      expect(read.data!.viewer.session.tokenized).toBe(minted.data!.viewer.sessionToken.jwt);
      // A token made without a template is not Kratos' tokenize_as and leaves it as it was.
      await t.graphql('{ viewer { sessionToken { jwt } } }', {}, auth);
      expect((await t.graphql<{ viewer: { session: { tokenized: string } } }>('{ viewer { session { tokenized } } }', {}, auth)).data!.viewer.session.tokenized).toBe(
        minted.data!.viewer.sessionToken.jwt,
      );
    });

    it('answers an anonymous viewer with HTTP 401, like Kratos\' whoami, and the schema still anonymously', async () => {
      for (const accept of ['application/graphql-response+json', 'application/json']) {
        const response = await t.app.fetch('http://sessiongraph.test/graphql', {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept },
          body: JSON.stringify({ query: '{ viewer { session { id } } }' }),
        });
        expect(response.status, accept).toBe(401);
        const body = (await response.json()) as { errors: { extensions: { code: string } }[] };
        expect(body.errors[0]!.extensions.code).toBe('UNAUTHENTICATED');
      }
      const schema = await t.graphql('{ __typename }', {}, { authorization: '' });
      expect(schema).toEqual({ data: { __typename: 'Query' } });
    });
  },
);
