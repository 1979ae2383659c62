// The built-in `admin` API client. With ADMIN_TOKEN set, that is its secret (nothing stored). On the
// embedded database without it, a secret is generated once: only its hash goes to the database, the
// secret itself to DATA_DIR/admin-token (mode 0600) for the operator to read — never to the log.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { PrismaClient } from '../generated/prisma/client.js';
import type { Logger } from '../logger.js';
import { adminClientId } from './caller.js';
import { newSecret, secretMatches, sha256 } from './secrets.js';

export function adminTokenFile(dataDir: string): string {
  return join(dataDir, 'admin-token');
}

export async function ensureAdminToken(prisma: PrismaClient, config: Pick<Config, 'auth' | 'database' | 'dataDir'>, logger: Logger): Promise<void> {
  if (config.auth.adminToken !== undefined) return;
  const stored = await prisma.apiClient.findUnique({ where: { id: adminClientId } });
  if (config.database.kind !== 'pglite') {
    if (!stored) logger.warn('no ADMIN_TOKEN set and no admin API client stored: admin access is disabled');
    return;
  }
  const file = adminTokenFile(config.dataDir);
  const kept = existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
  if (stored && kept && secretMatches(kept, stored.secretHash)) {
    logger.info('admin API token', { file, header: 'Authorization: Basic base64("admin:<contents of that file>")' });
    return;
  }
  const secret = newSecret('sga_');
  const secretHash = sha256(secret).toString('hex');
  await prisma.apiClient.upsert({
    where: { id: adminClientId },
    create: { id: adminClientId, secretHash, scope: 'ADMIN', name: 'built-in admin' },
    update: { secretHash, scope: 'ADMIN', revokedAt: null },
  });
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  logger.info('generated an admin API token', { file, header: 'Authorization: Basic base64("admin:<contents of that file>")' });
}
