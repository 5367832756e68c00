import { createHash, randomBytes } from 'node:crypto';

/**
 * Opaque bearer secrets: `triad_<kind>_<base62 of 32 random bytes>` (256 bits). Only the sha256
 * hex of the whole string is stored; the secret is shown once, at creation.
 */
export type SecretKind = 'pat' | 'enr';


const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

export function base62(bytes: Uint8Array): string {
  let n = BigInt(`0x${Buffer.from(bytes).toString('hex') || '0'}`);
  let out = '';
  while (n > 0n) {
    out = BASE62[Number(n % 62n)] + out;
    n /= 62n;
  }
  // Fixed width (32 bytes < 62^43) so every secret has the same length.
  return out.padStart(Math.ceil((bytes.length * 8) / Math.log2(62)), '0');
}

export interface IssuedSecret {
  /** The full secret: give it to the user once, never store it. */
  secret: string;
  /** sha256 hex of `secret`: the stored, unique lookup key. */
  hash: string;
  /** Recognisable, non-secret start of the secret for listings (`triad_pat_AbCd`). */
  prefix: string;
}

export function issueSecret(kind: SecretKind): IssuedSecret {
  const secret = `triad_${kind}_${base62(randomBytes(32))}`;
  return { secret, hash: hashSecret(secret), prefix: secretPrefix(secret) };
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretPrefix(secret: string): string {
  return secret.slice(0, secret.indexOf('_', 6) + 5);
}

/** Whether `secret` has the shape of a secret of `kind` (cheap check before a database lookup). */
export function looksLikeSecret(kind: SecretKind, secret: string): boolean {
  return new RegExp(`^triad_${kind}_[0-9A-Za-z]{43}$`).test(secret);
}
