// Input PostgreSQL would refuse is refused first, naming the record and field; a record repeated in
// one file is refused naming both places; identical imports racing each other never end in a 500.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImportError, importDocument } from '../../src/import/index.js';
import { createTestApp, type TestApp } from '../support/app.js';
import { databaseTargets, pgliteTarget } from '../support/databases.js';
import { projectRoot } from '../support/process.js';

// Fixtures are spoiled field by field, wherever the vendor put the field.
type Json = Record<string, any>;
const fixture = (name: string): Json => JSON.parse(readFileSync(join(projectRoot, 'test/fixtures', name), 'utf8'));

describe('vendor values PostgreSQL would refuse', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(pgliteTarget);
  });
  afterAll(async () => {
    await t.dispose();
  });

  const refusal = async (source: 'CLERK' | 'KRATOS', document: unknown) => {
    const error = await importDocument(t.db, source, document).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(ImportError);
    return (error as ImportError).message;
  };

  it.each([
    ['an indexed id longer than an index entry', (d: Json) => (d.data[1].client_id = `client_${'a'.repeat(3000)}`), /^data\[1\]\.client_id: must be at most 255 characters/],
    ['a session id twice', (d: Json) => (d.data[1].id = d.data[0].id), /^data\[1\]\.id: "sess_\w+" is also the id of data\[0\]; each session may appear once/],
    ['a time past year 9999', (d: Json) => (d.data[0].expire_at = 8_000_000_000_000_000), /^data\[0\]\.expire_at: .* after 9999/],
  ])('Clerk: %s', async (_what, spoil, message) => {
    const document = fixture('clerk-sessions.json');
    spoil(document);
    expect(await refusal('CLERK', document)).toMatch(message);
  });

  it.each([
    ['a day February does not have', (d: Json[]) => (d[0]!.expires_at = '2026-02-30T00:00:00Z'), /^\[0\]\.expires_at: expected a real ISO 8601 date-time/],
    ['year 0000', (d: Json[]) => (d[0]!.expires_at = '0000-01-01T00:00:00Z'), /^\[0\]\.expires_at: expected a real ISO 8601 date-time/],
    ['a lone surrogate in the traits', (d: Json[]) => (d[0]!.identity.traits.name = 'x\ud800'), /^\[0\]\.identity\.traits: Strings must be well-formed Unicode/],
    ['a NUL in a device', (d: Json[]) => (d[0]!.devices[0].user_agent = 'a\u0000b'), /^\[0\]\.devices\[0\]\.user_agent: Strings must not contain the NUL/],
    ['a credential version past 32 bits', (d: Json[]) => (Object.values(d[0]!.identity.credentials as Json)[0]!.version = 2 ** 40), /\.version: expected a whole number from -2147483648 to 2147483647/],
  ])('Kratos: %s', async (_what, spoil, message) => {
    const document = fixture('kratos-sessions.json') as unknown as Json[];
    spoil(document);
    expect(await refusal('KRATOS', document)).toMatch(message);
  });

  it('wrote nothing for any of them', async () => {
    expect(await t.db.prisma.session.count()).toBe(0);
  });

  it('refuses calendar dates that do not exist in GraphQL input too', async () => {
    for (const expiresAt of ['2026-02-30T00:00:00Z', '0000-06-01T00:00:00Z', '2026-04-09T24:00:00Z']) {
      const refused = await t.graphql(
        'mutation ($id: ID!, $at: DateTime!) { extendSession(input: { sessionId: $id, until: $at }) { session { id } } }',
        { id: 'Session:00000000-0000-7000-8000-000000000000', at: expiresAt },
      );
      expect(refused.errors?.[0]).toMatchObject({ extensions: { code: 'BAD_USER_INPUT' }, message: expect.stringMatching(/Invalid DateTime/) });
    }
  });

  it('names the field of an impossible date written inline, with its position', async () => {
    const refused = await t.graphql(
      `mutation {
        extendSession(input: { sessionId: "Session:00000000-0000-7000-8000-000000000000", until: "2026-02-30T00:00:00Z" }) { session { id } }
      }`,
    );
    expect(refused.errors).toEqual([
      {
        message: expect.stringMatching(/^input\.until: Invalid DateTime "2026-02-30T00:00:00Z"/),
        locations: [{ line: 2, column: 98 }],
        extensions: { code: 'BAD_USER_INPUT', field: 'input.until' },
      },
    ]);
    expect(refused.data).toBeUndefined();
  });
});

describe.each(databaseTargets)('identical imports at once on $name', (target) => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp(target);
  });
  afterAll(async () => {
    await t.dispose();
  });

  it('all succeed, or answer IMPORT_CONFLICT, never a 500, and write each record once', async () => {
    const document = fixture('kratos-sessions.json');
    const mutation = 'mutation ($d: JSON!) { importSessions(input: { from: KRATOS, document: $d }) { sessionsCreated sessionsUpdated } }';
    const results = await Promise.all([1, 2, 3].map(() => t.graphql(mutation, { d: document })));
    for (const result of results) {
      if (result.errors) expect(result.errors[0]?.extensions?.code).toBe('IMPORT_CONFLICT');
    }
    expect(results.some((r) => !r.errors)).toBe(true);
    expect(await t.db.prisma.session.count()).toBe((document as unknown as unknown[]).length);
  });
});
