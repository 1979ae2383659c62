// TOKEN_KEY_SECRET seals the signing keys. On the embedded database without it, one is generated on
// first start and kept in DATA_DIR/token-key-secret (mode 0600), like the admin token; on
// PostgreSQL every instance must be given the same one, or session tokens stay off.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';

export function tokenKeySecretFile(dataDir: string): string {
  return join(dataDir, 'token-key-secret');
}

/** The secret to seal signing keys with, or undefined when session tokens are off. */
export function resolveTokenKeySecret(config: Pick<Config, 'auth' | 'database' | 'dataDir'>, logger: Logger): string | undefined {
  if (config.auth.tokens.keySecret) return config.auth.tokens.keySecret;
  if (config.database.kind !== 'pglite') {
    logger.warn('no TOKEN_KEY_SECRET set: session tokens (JWTs) are off until every instance is given the same one');
    return undefined;
  }
  const file = tokenKeySecretFile(config.dataDir);
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  const secret = randomBytes(32).toString('base64url');
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  logger.info('generated a token key secret', { file });
  return secret;
}
