// Test vectors kept in the repository (test/vectors/): a test reads nothing outside the repository.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from './process.js';

export interface WycheproofVector {
  tcId: number;
  comment: string;
  flags: string[];
  msg: string;
  sig: string;
  result: 'valid' | 'invalid' | 'acceptable';
}

export interface WycheproofSuite {
  numberOfTests: number;
  testGroups: { publicKey: { uncompressed: string }; tests: WycheproofVector[] }[];
}

export const wycheproofFiles = ['ecdsa_secp256r1_sha256_p1363_test.json', 'ecdsa_secp256r1_sha256_test.json'] as const;

/** One Wycheproof suite, from the repository at `root` (this checkout unless another is named). */
export function loadWycheproofSuite(file: string, root = projectRoot): WycheproofSuite {
  return JSON.parse(readFileSync(join(root, 'test/vectors/wycheproof', file), 'utf8')) as WycheproofSuite;
}
