// The keys that sign session tokens. Private keys live in the database sealed with AES-256-GCM
// under a key derived from TOKEN_KEY_SECRET, so a database dump alone signs nothing. Per algorithm,
// one key signs and the next one is already published: a verifier that cached the JWKS (for up to
// its max-age) knows a key before its first token. Rotating promotes that next key, once it has
// been published that long, and publishes a new next one; the retired key stays published until the
// last token it can have signed has expired, then leaves the set.
import { createPrivateKey, randomBytes, type KeyObject } from 'node:crypto';
import { exportJWK, exportPKCS8, generateKeyPair, importJWK, type CryptoKey, type JWK } from 'jose';
import { seal, unseal } from '../crypto/sealing.js';
import { codedError } from '../errors.js';
import type { PrismaClient, SigningKey } from '../generated/prisma/client.js';

export const signingAlgorithms = ['RS256', 'ES256'] as const;
export type SigningAlgorithm = (typeof signingAlgorithms)[number];

/** How long an in-process copy of the keys is trusted before the database is asked again. */
const cacheMs = 30_000;

/** How long a verifier may cache the JWKS (its Cache-Control max-age). */
export const jwksMaxAgeSeconds = 300;

/**
 * How long a next key is published before it may sign: a verifier's cached JWKS, and before that
 * this server's own copy on every instance, have it by then.
 */
export const publishAheadMs = jwksMaxAgeSeconds * 1000 + cacheMs;

// Arbitrary, fixed: the advisory lock key-state changes take, so that instances starting or
// rotating together make one signing key and one next key per algorithm, never two.
const keyStateLockKey = 7_424_323_002;

export interface ActiveKey {
  kid: string;
  algorithm: SigningAlgorithm;
  /** Node's own key object: it signs without WebCrypto's promise and copies (session-tokens.ts). */
  privateKey: KeyObject;
  /** The JWS protected header every token of this key carries, base64url-encoded once. */
  header: string;
}

// The HKDF info the signing keys have always been sealed under.
const sealingPurpose = 'session token signing keys v1';


/** A rotation asked for before the next key has been published long enough for verifiers to know it. */
export class NextKeyTooNew extends Error {}

type Tx = Parameters<Parameters<PrismaClient['$transaction']>[0]>[0];

// In the JWKS: the keys that sign, then the next ones, then the retired ones; RS256 before ES256.
const publishedOrder = (key: SigningKey) =>
  (key.retiredAt ? 2 : key.activatedAt ? 0 : 1) * 10 + signingAlgorithms.indexOf(key.algorithm as SigningAlgorithm);

export class KeyStore {
  private active = new Map<SigningAlgorithm, { key: ActiveKey; loadedAt: number }>();
  private published: { keys: JWK[]; loadedAt: number; firstLeavesAt: number } | undefined;
  private verifying = new Map<string, CryptoKey>();
  // Unsealed and imported once per kid: the database is asked again every cacheMs (a rotation on
  // another instance), the key is not parsed again.
  private imported = new Map<string, ActiveKey>();
  private lastMiss = 0;
  private prepared: Promise<void> | undefined;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly secret: string,
    /** The longest a token may live, skew included: how long a retired key stays published. */
    private readonly maxTokenLifetimeMs: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Makes sure every algorithm has a signing key and a published next key (at start, and before
   * any use of the keys). The very first key signs at once: nothing can have fetched a key set
   * without it, since the JWKS answers only after this.
   */
  prepare(): Promise<void> {
    return (this.prepared ??= (async () => {
      for (const algorithm of signingAlgorithms) await this.ensureKeys(algorithm);
    })().catch((error: unknown) => {
      this.prepared = undefined;
      throw error;
    }));
  }

  private async ensureKeys(algorithm: SigningAlgorithm): Promise<void> {
    const complete = (keys: SigningKey[]) => keys.some((key) => key.activatedAt) && keys.some((key) => !key.activatedAt);
    if (complete(await this.prisma.signingKey.findMany({ where: { algorithm, retiredAt: null } }))) return;
    // Made before the transaction (an RSA key takes tens of milliseconds), kept only if needed.
    const fresh = [await this.newKey(algorithm), await this.newKey(algorithm)];
    await this.prisma.$transaction(async (tx) => {
      const keys = await this.lockedKeys(tx, algorithm);
      const now = this.now();
      const waiting = keys.filter((key) => !key.activatedAt);
      if (!keys.some((key) => key.activatedAt)) {
        // None signs: the oldest waiting key does, or a new one.
        const first = waiting.shift();
        if (first) await tx.signingKey.update({ where: { id: first.id }, data: { activatedAt: now } });
        else await tx.signingKey.create({ data: { ...fresh.pop()!, createdAt: now, activatedAt: now } });
      }
      if (waiting.length === 0) await tx.signingKey.create({ data: { ...fresh.pop()!, createdAt: now } });
    });
    this.published = undefined;
  }

  /** The unretired keys of one algorithm, oldest first, under the key-state lock (held to the commit). */
  private async lockedKeys(tx: Tx, algorithm: SigningAlgorithm): Promise<SigningKey[]> {
    await tx.$executeRawUnsafe(`SELECT pg_advisory_xact_lock(${keyStateLockKey})`);
    return tx.signingKey.findMany({ where: { algorithm, retiredAt: null }, orderBy: { createdAt: 'asc' } });
  }

  /** The key that signs with `algorithm` now. */
  async signingKey(algorithm: SigningAlgorithm): Promise<ActiveKey> {
    const cached = this.active.get(algorithm);
    if (cached && Date.now() - cached.loadedAt < cacheMs) return cached.key;
    await this.prepare();
    const find = () =>
      this.prisma.signingKey.findFirst({ where: { algorithm, retiredAt: null, activatedAt: { not: null } }, orderBy: { activatedAt: 'desc' } });
    let row = await find();
    if (!row) {
      // Keys removed behind our back: make them again.
      this.prepared = undefined;
      await this.prepare();
      row = await find();
      if (!row) throw new Error(`no ${algorithm} signing key could be made`);
    }
    const key = await this.activeKey(row);
    this.active.set(algorithm, { key, loadedAt: Date.now() });
    return key;
  }

  /**
   * Promotes the published next key to signing and publishes a new next key; the old signing key
   * stays published until its tokens have expired. Refused (NextKeyTooNew) while the next key has
   * been published for less than publishAheadMs, unless `immediate`: its tokens would then fail
   * verifiers holding an older key set until they fetch the JWKS again.
   */
  async rotate(algorithm: SigningAlgorithm, options: { immediate?: boolean } = {}): Promise<SigningKey> {
    await this.prepare();
    const fresh = await this.newKey(algorithm);
    const promoted = await this.prisma.$transaction(async (tx) => {
      const keys = await this.lockedKeys(tx, algorithm);
      const now = this.now();
      const next = keys.find((key) => !key.activatedAt);
      const ready = next ? next.createdAt.getTime() + publishAheadMs : Infinity;
      if (!options.immediate && now.getTime() < ready) {
        if (!next) throw new NextKeyTooNew(`No next ${algorithm} key is published yet; rotate with immediate: true, or wait for one`);
        throw new NextKeyTooNew(
          `The next ${algorithm} key was published at ${next.createdAt.toISOString()}; verifiers may cache the JWKS for ${jwksMaxAgeSeconds} s, ` +
            `so it may sign from ${new Date(ready).toISOString()} on. Rotate then, or with immediate: true (verifiers holding an older key set then refuse its tokens until they fetch the JWKS again)`,
        );
      }
      await tx.signingKey.updateMany({
        where: { algorithm, retiredAt: null, activatedAt: { not: null } },
        data: { retiredAt: now, publishedUntil: new Date(now.getTime() + this.maxTokenLifetimeMs) },
      });
      const signing = next
        ? await tx.signingKey.update({ where: { id: next.id }, data: { activatedAt: now } })
        : await tx.signingKey.create({ data: { ...(await this.newKey(algorithm)), createdAt: now, activatedAt: now } });
      await tx.signingKey.create({ data: { ...fresh, createdAt: now } });
      return signing;
    });
    this.active.delete(algorithm);
    this.published = undefined;
    return promoted;
  }

  /** The public keys a verifier needs now: every key that signs, or signed a token still valid. */
  async jwks(): Promise<{ keys: JWK[] }> {
    const now = this.now().getTime();
    const cached = this.published;
    if (cached && Date.now() - cached.loadedAt < cacheMs && now < cached.firstLeavesAt) return { keys: cached.keys };
    await this.prepare();
    const rows = await this.prisma.signingKey.findMany({
      where: { OR: [{ retiredAt: null }, { publishedUntil: { gt: new Date(now) } }] },
      orderBy: { createdAt: 'desc' },
    });
    rows.sort((a, b) => publishedOrder(a) - publishedOrder(b));
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

  private async newKey(algorithm: SigningAlgorithm) {
    const kid = `sgjwk_${randomBytes(12).toString('base64url')}`;
    const pair = await generateKeyPair(algorithm, { extractable: true, ...(algorithm === 'RS256' ? { modulusLength: 2048 } : {}) });
    const publicJwk = { ...(await exportJWK(pair.publicKey)), kid, alg: algorithm, use: 'sig' };
    return { id: kid, algorithm, publicJwk, sealedPrivateKey: seal(this.secret, sealingPurpose, await exportPKCS8(pair.privateKey), kid) };
  }

  private async activeKey(row: SigningKey): Promise<ActiveKey> {
    const known = this.imported.get(row.id);
    if (known) return known;
    let pkcs8: string;
    try {
      pkcs8 = unseal(this.secret, sealingPurpose, row.sealedPrivateKey, row.id);
    } catch {
      // The caller is told tokens are unavailable (not an internal error), the operator what to fix.
      throw codedError(
        'TOKENS_NOT_CONFIGURED',
        `Session tokens are unavailable: signing key ${row.id} cannot be unsealed, as this server's TOKEN_KEY_SECRET is not the one it was sealed with; give every instance the same secret`,
      );
    }
    const algorithm = row.algorithm as SigningAlgorithm;
    const header = Buffer.from(JSON.stringify({ alg: algorithm, kid: row.id, typ: 'JWT' })).toString('base64url');
    const key: ActiveKey = { kid: row.id, algorithm, privateKey: createPrivateKey(pkcs8), header };
    this.imported.set(row.id, key);
    return key;
  }
}
