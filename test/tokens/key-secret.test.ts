// Where the token key secret comes from: the environment, or on the embedded database a file kept
// beside the data (made once, private), or nowhere on PostgreSQL (session tokens off).
import { statSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger, type LogFields } from '../../src/logger.js';
import { resolveTokenKeySecret, tokenKeySecretFile } from '../../src/tokens/key-secret.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('key-secret');

describe('the token key secret', () => {
  it('is generated once into DATA_DIR on the embedded database, private, and reused', async () => {
    const dataDir = await tempDir();
    const logs: LogFields[] = [];
    const logger = createLogger('info', (line) => logs.push(JSON.parse(line) as LogFields));
    const config = loadConfig({ DATA_DIR: dataDir });
    const first = resolveTokenKeySecret(config, logger);
    expect(first).toMatch(/^[\w-]{43}$/);
    expect(statSync(tokenKeySecretFile(dataDir)).mode & 0o777).toBe(0o600);
    expect(resolveTokenKeySecret(config, logger)).toBe(first);
    expect(JSON.stringify(logs)).not.toContain(first!);
  });

  it('comes from TOKEN_KEY_SECRET when set, and is off on PostgreSQL without it', () => {
    const logger = createLogger('error', () => {});
    const secret = 'a-secret-of-at-least-thirty-two-characters';
    expect(resolveTokenKeySecret(loadConfig({ TOKEN_KEY_SECRET: secret, DATABASE_URL: 'postgres://x@h/db' }), logger)).toBe(secret);
    expect(resolveTokenKeySecret(loadConfig({ DATABASE_URL: 'postgres://x@h/db' }), logger)).toBeUndefined();
    expect(() => loadConfig({ TOKEN_KEY_SECRET: 'short' })).toThrow(/^TOKEN_KEY_SECRET: must be at least 32 characters/);
  });
});
