// `npm run demo`: a realistic sample in the configured database, loaded the way real data arrives —
// the three vendors' exports through the importer, and one account whose laptop signed its lost
// phone out through the real two-step signed revocation (WebCrypto keys, GraphQL mutations).
// Loading it again adds what is missing and leaves the rest as it is now (a demo session signed
// out since stays signed out).
import { randomBytes, webcrypto } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import type { Config } from '../config.js';
import type { Database } from '../db/database.js';
import type { Vendor } from '../generated/prisma/enums.js';
import { importDocument, type ImportSummary } from '../import/index.js';
import { createLogger } from '../logger.js';
import { memoryStore } from '../rate-limit.js';
import { createApp } from '../server.js';
import { demoDocuments } from './documents.js';

export const demoSignerEmail = 'margaret@example.com';
export const demoTemplateName = 'backend';

export interface DemoSummary {
  imported: Record<Vendor, ImportSummary>;
  /** False when the signed-revocation account was already there. */
  signedRevocation: boolean;
  /** False when the JWT template "backend" was already there. */
  backendTemplate: boolean;
}

async function browserKey() {
  const pair = await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
  const raw = new Uint8Array(await webcrypto.subtle.exportKey('raw', pair.publicKey));
  return { privateKey: pair.privateKey, publicKeyHex: p256.Point.fromBytes(raw).toHex(true) };
}

type DemoGraphql = <T>(query: string, variables: Record<string, unknown>, authorization?: string) => Promise<T>;

/** Runs `use` against the real GraphQL handler on `db`, as a throwaway admin token. */
async function withDemoApp(db: Database, config: Config, use: (graphql: DemoGraphql) => Promise<void>): Promise<void> {
  const adminToken = randomBytes(24).toString('base64url');
  const rateLimits = memoryStore();
  const app = createApp({ db, logger: createLogger('error', () => {}), config: { ...config, auth: { ...config.auth, adminToken } }, rateLimits });
  const admin = `Basic ${Buffer.from(`admin:${adminToken}`).toString('base64')}`;
  const graphql: DemoGraphql = async <T>(query: string, variables: Record<string, unknown>, authorization = admin): Promise<T> => {
    const response = await app.fetch('http://sessiongraph.demo/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization },
      body: JSON.stringify({ query, variables }),
    });
    const result = (await response.json()) as { data?: T; errors?: { message: string }[] };
    if (result.errors?.length) throw new Error(`demo: ${result.errors.map((e) => e.message).join('; ')}`);
    return result.data!;
  };
  try {
    await use(graphql);
  } finally {
    await rateLimits.close();
  }
}

/** The README's JWT template (`sessionToken(template: "backend")`): the identity's email and plan. */
async function backendTemplate(graphql: DemoGraphql): Promise<void> {
  await graphql(
    'mutation ($input: CreateJwtTemplateInput!) { createJwtTemplate(input: $input) { template { name } } }',
    { input: { name: demoTemplateName, claims: { email: '{{identity.traits.email}}', plan: '{{identity.metadataPublic.plan}}' }, lifetimeSeconds: 300 } },
  );
}

/** The laptop signs the phone out: createIdentity, two createSession, revokeSession, confirmRevocation. */
async function signedRevocation(graphql: DemoGraphql): Promise<void> {
  const { createIdentity } = await graphql<{ createIdentity: { identity: { id: string } } }>(
    'mutation ($input: CreateIdentityInput!) { createIdentity(input: $input) { identity { id } } }',
    { input: { traits: { email: demoSignerEmail, name: { first: 'Margaret', last: 'Hamilton' } }, metadataPublic: { plan: 'pro' } } },
  );
  const session = async (nickname: string, userAgent: string, ipAddress: string, location: string) => {
    const key = await browserKey();
    const { createSession } = await graphql<{ createSession: { session: { id: string }; sessionToken: string } }>(
      'mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id } sessionToken } }',
      {
        input: {
          identityId: createIdentity.identity.id,
          type: 'PASSKEY',
          nickname,
          clientPublicKey: key.publicKeyHex,
          expiresAt: new Date(Date.now() + 30 * 86_400_000).toISOString(),
          devices: [{ userAgent, ipAddress, location }],
        },
      },
    );
    return { id: createSession.session.id, bearer: `Bearer ${createSession.sessionToken}`, key };
  };
  const laptop = await session('Margaret’s MacBook', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) Safari/17.5', '203.0.113.50', 'Boston, US');
  const phone = await session('Margaret’s lost phone', 'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148', '198.51.100.77', 'Cambridge, US');
  const { revokeSession } = await graphql<{ revokeSession: { challenge: { requestId: string; payloadToSign: string } } }>(
    'mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId payloadToSign } } }',
    { id: phone.id },
    laptop.bearer,
  );
  const signature = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, laptop.key.privateKey, Buffer.from(revokeSession.challenge.payloadToSign, 'base64'));
  await graphql(
    'mutation ($input: ConfirmRevocationInput!) { confirmRevocation(input: $input) { operation } }',
    { input: { requestId: revokeSession.challenge.requestId, signature: Buffer.from(signature).toString('base64') } },
    laptop.bearer,
  );
}

export async function loadDemo(db: Database, config: Config): Promise<DemoSummary> {
  const documents = demoDocuments();
  const imported = {} as Record<Vendor, ImportSummary>;
  for (const vendor of ['GRID', 'KRATOS', 'CLERK'] as const) imported[vendor] = await importDocument(db, vendor, documents[vendor], { keepStored: true });
  const signer = await db.prisma.identity.findFirst({ where: { traits: { path: ['email'], equals: demoSignerEmail } }, select: { id: true } });
  const template = await db.prisma.jwtTemplate.findUnique({ where: { name: demoTemplateName }, select: { id: true } });
  if (!signer || !template) {
    await withDemoApp(db, config, async (graphql) => {
      if (!template) await backendTemplate(graphql);
      if (!signer) await signedRevocation(graphql);
    });
  }
  return { imported, signedRevocation: !signer, backendTemplate: !template };
}
