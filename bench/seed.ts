// A realistic population, written with batched multi-row INSERTs through the same driver adapter
// the server uses (so PostgreSQL and PGlite are seeded alike). Deterministic: the same seed gives
// the same data, so runs compare.
import { p256 } from '@noble/curves/nist.js';
import { uuidv7 } from 'uuidv7';
import { sha256 } from '../src/auth/secrets.js';
import type { Database } from '../src/db/database.js';

export interface Population {
  identities: number;
  sessions: number;
  devices: number;
  /** Bearer tokens of active sessions, to act as session callers. */
  tokens: string[];
  identityIds: string[];
  sessionIds: string[];
  deviceIds: string[];
  /** Pairs for the revocation scenario: the signer's key and a target of the same identity. */
  revocations: { signerSecretKey: Uint8Array; targetSessionId: string }[];
  seedMs: number;
}

/** mulberry32: a small seeded PRNG. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a |= 0;
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const userAgents = [
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/17.5',
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/130.0 Safari/537.36',
  'Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) Mobile/15E148',
  'Mozilla/5.0 (Linux; Android 15) Chrome/130.0 Mobile',
];
const places = ['Berlin, DE', 'Lisbon, PT', 'Austin, US', 'Osaka, JP', 'Nairobi, KE'];
const methods = ['PASSWORD', 'PASSKEY', 'OIDC', 'TOTP', 'CODE'];

async function insert(db: Database, table: string, columns: string[], casts: string[], rows: unknown[][]): Promise<void> {
  const perStatement = Math.floor(30_000 / columns.length);
  for (let start = 0; start < rows.length; start += perStatement) {
    const chunk = rows.slice(start, start + perStatement);
    const params: unknown[] = [];
    const values = chunk.map((row) => `(${row.map((value, i) => (params.push(value), `$${params.length}${casts[i]}`)).join(', ')})`);
    await db.prisma.$executeRawUnsafe(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${values.join(', ')}`, ...params);
  }
}

export async function seed(db: Database, options: { identities: number; revocations: number; seed?: number }): Promise<Population> {
  const started = performance.now();
  const rand = random(options.seed ?? 42);
  const pick = <T>(items: readonly T[]) => items[Math.floor(rand() * items.length)]!;
  const now = Date.now();
  const day = 86_400_000;

  const identityRows: unknown[][] = [];
  const sessionRows: unknown[][] = [];
  const deviceRows: unknown[][] = [];
  const population: Population = {
    identities: options.identities,
    sessions: 0,
    devices: 0,
    tokens: [],
    identityIds: [],
    sessionIds: [],
    deviceIds: [],
    revocations: [],
    seedMs: 0,
  };

  for (let i = 0; i < options.identities; i++) {
    const identityId = uuidv7();
    population.identityIds.push(identityId);
    identityRows.push([identityId, JSON.stringify({ email: `user${i}@example.com`, name: `User ${i}` }), new Date(now - 400 * day + i * 1000)]);
    // Skewed: 1 in 100 identities has 200 sessions (a busy shared account), the rest 1–5.
    const count = i % 100 === 7 ? 200 : 1 + Math.floor(rand() * 5);
    const active: { id: string; index: number }[] = [];
    for (let s = 0; s < count; s++) {
      const sessionId = uuidv7();
      const roll = rand();
      const status = roll < 0.7 ? 'ACTIVE' : roll < 0.8 ? 'REVOKED' : roll < 0.9 ? 'ENDED' : roll < 0.95 ? 'PENDING' : 'REMOVED';
      const createdAt = new Date(now - Math.floor(rand() * 90 * day));
      // Some active ones expired already: they read EXPIRED and drop out of active filters.
      const expiresAt = new Date(status === 'ACTIVE' && rand() < 0.15 ? now - day : now + 30 * day);
      const token = `sgs_bench_${population.sessions}`;
      const authMethods = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => ({
        method: pick(methods),
        aal: 'AAL1',
        completedAt: createdAt.toISOString(),
        provider: null,
        organization: null,
      }));
      sessionRows.push([
        sessionId, identityId, pick(['PASSKEY', 'OAUTH', 'EMAIL_OTP']), status, JSON.stringify(authMethods),
        `client_${Math.floor(rand() * 1000)}`, createdAt, createdAt, expiresAt, createdAt, Buffer.from(sha256(token)), null,
      ]);
      population.sessions++;
      population.sessionIds.push(sessionId);
      if (status === 'ACTIVE' && expiresAt.getTime() > now) {
        active.push({ id: sessionId, index: sessionRows.length - 1 });
        if (population.tokens.length < 5000) population.tokens.push(token);
      }
      for (let d = 0, n = 1 + Math.floor(rand() * 3); d < n; d++) {
        const deviceId = uuidv7();
        population.devices++;
        population.deviceIds.push(deviceId);
        deviceRows.push([deviceId, sessionId, `198.51.100.${Math.floor(rand() * 250)}`, pick(places), pick(userAgents), createdAt, createdAt]);
      }
    }
    // Identities with two live sessions give one revocation each: the first signs the second out.
    if (population.revocations.length < options.revocations && active.length >= 2) {
      const secretKey = p256.utils.randomSecretKey();
      sessionRows[active[0]!.index]![11] = Buffer.from(p256.getPublicKey(secretKey, true));
      population.revocations.push({ signerSecretKey: secretKey, targetSessionId: active[1]!.id });
    }
  }

  await insert(db, 'identities', ['id', 'traits', 'created_at', 'updated_at'], ['::uuid', '::jsonb', '', ''], identityRows.map((r) => [...r, r[2]]));
  await insert(
    db,
    'sessions',
    ['id', 'identity_id', 'type', 'status', 'authentication_methods', 'client_id', 'created_at', 'issued_at', 'expires_at', 'updated_at', 'token_hash', 'signing_public_key'],
    ['::uuid', '::uuid', '::"CredentialType"', '::"SessionStatus"', '::jsonb', '', '', '', '', '', '', ''],
    sessionRows,
  );
  await insert(
    db,
    'devices',
    ['id', 'session_id', 'ip_address', 'location', 'user_agent', 'first_seen_at', 'last_seen_at'],
    ['::uuid', '::uuid', '', '', '', '', ''],
    deviceRows,
  );
  await db.prisma.$executeRawUnsafe('ANALYZE');
  population.seedMs = Math.round(performance.now() - started);
  return population;
}
