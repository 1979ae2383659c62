// Creating API tokens, for the createApiToken mutation and the `npm run token:create` command: the
// secret exists once, in what this returns; only its SHA-256 is stored.
import type { ApiClient, PrismaClient } from '../generated/prisma/client.js';
import type { ApiClientScope } from '../generated/prisma/enums.js';
import { apiSecretKey, newSecret, sha256 } from './secrets.js';

export interface NewApiToken {
  apiClient: ApiClient;
  secret: string;
  /** The ready-made header value: `Basic base64(<tokenId>:<secret>)`. */
  authorization: string;
  /** The same credentials as one string, for `Authorization: Bearer` (Clerk's secretKey, Kratos' admin token). */
  secretKey: string;
}

export async function createApiToken(prisma: PrismaClient, input: { name?: string; scope: ApiClientScope }): Promise<NewApiToken> {
  const id = newSecret('sgk_').slice(0, 24);
  const secret = newSecret('sgs_');
  const apiClient = await prisma.apiClient.create({
    data: { id, secretHash: sha256(secret).toString('hex'), scope: input.scope, name: input.name },
  });
  return { apiClient, secret, authorization: `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`, secretKey: apiSecretKey(id, secret) };
}
