// HPKE (RFC 9180) base mode, single-shot seal, with DHKEM(P-256, HKDF-SHA256), HKDF-SHA256 and
// AES-256-GCM: how a server-generated session private key reaches only the client that holds the
// matching private key (Grid's legacy encryptedSessionSigningKey delivery). Sealing only: the server
// never opens anything.
import { createCipheriv, createECDH, createHmac } from 'node:crypto';

const KEM_ID = 0x0010; // DHKEM(P-256, HKDF-SHA256)
const KDF_ID = 0x0001; // HKDF-SHA256
const AEAD_ID = 0x0002; // AES-256-GCM
const N_SECRET = 32;
const N_KEY = 32;
const N_NONCE = 12;

const text = (value: string) => Buffer.from(value, 'utf8');
const i2osp = (value: number, length: number) => {
  const out = Buffer.alloc(length);
  out.writeUIntBE(value, 0, length);
  return out;
};

const kemSuiteId = Buffer.concat([text('KEM'), i2osp(KEM_ID, 2)]);
const hpkeSuiteId = Buffer.concat([text('HPKE'), i2osp(KEM_ID, 2), i2osp(KDF_ID, 2), i2osp(AEAD_ID, 2)]);

function extract(salt: Buffer, ikm: Buffer): Buffer {
  return createHmac('sha256', salt).update(ikm).digest();
}

function expand(prk: Buffer, info: Buffer, length: number): Buffer {
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; Buffer.concat(blocks).length < length; i++) {
    previous = createHmac('sha256', prk).update(Buffer.concat([previous, info, Buffer.from([i])])).digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function labeledExtract(suiteId: Buffer, salt: Buffer, label: string, ikm: Buffer): Buffer {
  return extract(salt, Buffer.concat([text('HPKE-v1'), suiteId, text(label), ikm]));
}

function labeledExpand(suiteId: Buffer, prk: Buffer, label: string, info: Buffer, length: number): Buffer {
  return expand(prk, Buffer.concat([i2osp(length, 2), text('HPKE-v1'), suiteId, text(label), info]), length);
}

/**
 * Seals `plaintext` to the P-256 public key `recipientPublicKey` (SEC1 uncompressed, 65 bytes).
 * Returns `enc` (the ephemeral public key, 65 bytes) followed by the AES-GCM ciphertext and tag,
 * which a recipient opens with the same `info` and `aad`.
 */
export function hpkeSeal(recipientPublicKey: Uint8Array, plaintext: Uint8Array, info: Uint8Array, aad: Uint8Array): Buffer {
  const recipient = Buffer.from(recipientPublicKey);
  const ephemeral = createECDH('prime256v1');
  const enc = ephemeral.generateKeys();
  const dh = ephemeral.computeSecret(recipient);

  // Encap: shared_secret = ExtractAndExpand(dh, enc || pkR)
  const eaePrk = labeledExtract(kemSuiteId, Buffer.alloc(0), 'eae_prk', dh);
  const sharedSecret = labeledExpand(kemSuiteId, eaePrk, 'shared_secret', Buffer.concat([enc, recipient]), N_SECRET);

  // KeySchedule, mode_base (0), no PSK.
  const pskIdHash = labeledExtract(hpkeSuiteId, Buffer.alloc(0), 'psk_id_hash', Buffer.alloc(0));
  const infoHash = labeledExtract(hpkeSuiteId, Buffer.alloc(0), 'info_hash', Buffer.from(info));
  const context = Buffer.concat([Buffer.from([0]), pskIdHash, infoHash]);
  const secret = labeledExtract(hpkeSuiteId, sharedSecret, 'secret', Buffer.alloc(0));
  const key = labeledExpand(hpkeSuiteId, secret, 'key', context, N_KEY);
  const nonce = labeledExpand(hpkeSuiteId, secret, 'base_nonce', context, N_NONCE); // sequence 0

  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(Buffer.from(aad));
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  return Buffer.concat([enc, ciphertext]);
}
