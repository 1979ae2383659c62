// Standard Webhooks signatures (what Svix, and so Clerk, send): the secret is `whsec_` + base64 of
// random bytes; each request carries `v1,<base64 HMAC-SHA256(key, "<id>.<timestamp>.<body>")>`,
// one per secret in force, separated by spaces. Secrets are sealed at rest like the token signing
// keys (TOKEN_KEY_SECRET), bound to their endpoint.
import { createHmac, randomBytes } from 'node:crypto';
import { seal, unseal } from '../crypto/sealing.js';

const secretPrefix = 'whsec_';
const sealingPurpose = 'webhook endpoint secrets v1';

/** A new endpoint secret: 32 random bytes, as Standard Webhooks writes them. */
export function newWebhookSecret(): string {
  return `${secretPrefix}${randomBytes(32).toString('base64')}`;
}

export function sealWebhookSecret(keySecret: string, secret: string, endpointId: string): string {
  return seal(keySecret, sealingPurpose, secret, endpointId);
}

export function unsealWebhookSecret(keySecret: string, sealed: string, endpointId: string): string {
  return unseal(keySecret, sealingPurpose, sealed, endpointId);
}

/** The `webhook-signature` / `svix-signature` value: one `v1,<signature>` per secret. */
export function signatureHeader(secrets: readonly string[], id: string, timestamp: number, body: string): string {
  return secrets
    .map((secret) => {
      const key = Buffer.from(secret.startsWith(secretPrefix) ? secret.slice(secretPrefix.length) : secret, 'base64');
      return `v1,${createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
    })
    .join(' ');
}
