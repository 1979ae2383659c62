// The keys that sign session tokens. Private keys live in the database sealed with AES-256-GCM
// under a key derived from TOKEN_KEY_SECRET, so a database dump alone signs nothing. One key per
// algorithm signs at a time; rotating retires it, and a retired key stays published in the JWKS
// until the last token it can have signed has expired, then leaves the set.
import { randomBytes } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, importPKCS8, type CryptoKey, type JWK } from 'jose';
import { seal, unseal } from '../crypto/sealing.js';
import type { PrismaClient, SigningKey } from '../generated/prisma/client.js';

export const signingAlgorithms = ['RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

/** How long an in-process copy of the keys is trusted before the database is asked again. */
const cacheMs = 30_000;

export interface ActiveKey {
  kid: string;
  algorithm: SigningAlgorithm;
  privateKey: CryptoKey;
}

// The HKDF info the signing keys have always been sealed under.
const sealingPurpose = 'session token signing keys v1';

/** A key that cannot be unsealed: TOKEN_KEY_SECRET is not the one it was sealed with. */
export class SealedKeyError extends Error {}

export class KeyStore {
  private active = new Map<SigningAlgorithm, { key: ActiveKey; loadedAt: number }>();
  private published: { keys: JWK[]; loadedAt: number; firstLeavesAt: number } | undefined;
  private verifying = new Map<string, CryptoKey>();
  private lastMiss = 0;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secret: string,
    /** The longest a token may live, skew included: how long a retired key stays published. */
    private readonly maxTokenLifetimeMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** The key that signs with `algorithm` now, made on first use. */
  async signingKey(algorithm: SigningAlgorithm): Promise<ActiveKey> {
    const cached = this.active.get(algorithm);
    if (cached && Date.now() - cached.loadedAt < cacheMs) return cached.key;
    const row =
      (await this.prisma.signingKey.findFirst({ where: { algorithm, retiredAt: null }, orderBy: { createdAt: 'desc' } })) ??
      (await this.create(algorithm));
    const key = await this.activeKey(row);
    this.active.set(algorithm, { key, loadedAt: Date.now() });
    return key;
  }

  /** Starts signing with a new key; the old one stays published until its tokens have expired. */
  async rotate(algorithm: SigningAlgorithm): Promise<SigningKey> {
    const now = this.now();
    const created = await this.prisma.$transaction(async (tx) => {
      await tx.signingKey.updateMany({
        where: { algorithm, retiredAt: null },
        data: { retiredAt: now, publishedUntil: new Date(now.getTime() + this.maxTokenLifetimeMs) },
      });
      return tx.signingKey.create({ data: await this.newKey(algorithm) });
    });
    this.active.delete(algorithm);
    this.published = undefined;
    return created;
  }

  /** The public keys a verifier needs now: every key that signs, or signed a token still valid. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const now = this.now().getTime();
    const cached = this.published;
    if (cached && Date.now() - cached.loadedAt < cacheMs && now < cached.firstLeavesAt) return { keys: cached.keys };
    const rows = await this.prisma.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { publishedUntil: { gt: new Date(now) } }] },
      orderBy: { createdAt: 'desc' },
    });
    const keys = rows.map((row) => row.publicJwk as JWK);
    // A retired key leaves the set at its publishedUntil, cache or no cache.
    const firstLeavesAt = Math.min(Infinity, ...rows.flatMap((row) => (row.publishedUntil ? [row.publishedUntil.getTime()] : [])));
    this.published = { keys, loadedAt: Date.now(), firstLeavesAt };
    return { keys };
  }

  /** The public key with this kid, if it is published; an unknown kid asks the database at most once a second. */
  async verifyingKey(kid: string): Promise<{ key: CryptoKey; algorithm: SigningAlgorithm } | undefined> {
    const find = async () => (await this.jwks()).keys.find((jwk) => jwk.kid === kid);
    let jwk = await find();
    if (!jwk && Date.now() - this.lastMiss > 1000) {
      this.lastMiss = Date.now();
      this.published = undefined; // another instance may have rotated
      jwk = await find();
    }
    if (!jwk) return undefined;
    let key = this.verifying.get(kid);
    if (!key) {
      key = (await importJWK(jwk, jwk.alg)) as CryptoKey;
      this.verifying.set(kid, key);
    }
    return { key, algorithm: jwk.alg as SigningAlgorithm };
  }

  /** Every key, published or not, for operators. */
  list(): Promise<SigningKey[]> {
    return this.prisma.signingKey.findMany({ orderBy: { createdAt: 'desc' } });
  }

  private async create(algorithm: SigningAlgorithm): Promise<SigningKey> {
    const created = await this.prisma.signingKey.create({ data: await this.newKey(algorithm) });
    this.published = undefined; // publish it before its first token goes out
    return created;
  }

  private async newKey(algorithm: SigningAlgorithm) {
    const kid = `sgjwk_${randomBytes(12).toString('base64url')}`;
    const pair = await generateKeyPair(algorithm, { extractable: true, ...(algorithm === 'RS256' ? { modulusLength: 2048 } : {}) });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: algorithm, use: 'sig' };
    return { id: kid, algorithm, publicJwk, sealedPrivateKey: seal(this.secret, sealingPurpose, await exportPKCS8(pair.privateKey), kid) };
  }

  private async activeKey(row: SigningKey): Promise<ActiveKey> {
    let pkcs8: string;
    try {
      pkcs8 = unseal(this.secret, sealingPurpose, row.sealedPrivateKey, row.id);
    } catch {
      throw new SealedKeyError(`signing key ${row.id} cannot be unsealed: TOKEN_KEY_SECRET differs from the one it was sealed with`);
    }
    return { kid: row.id, algorithm: row.algorithm as SigningAlgorithm, privateKey: await importPKCS8(pkcs8, row.algorithm) };
  }
}
