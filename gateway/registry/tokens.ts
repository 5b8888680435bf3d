import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

// 256 random bits: far beyond guessing, so a fast hash is enough at rest (a slow
// KDF only helps low-entropy secrets such as passwords).
export function newToken(): string {
  return `wmg_${randomBytes(32).toString('base64url')}`;
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of two token hashes (hex strings of equal length). */
export function sameTokenHash(a: string, b: string): boolean {
  const left = Buffer.from(a, 'hex');
  const right = Buffer.from(b, 'hex');
  return left.length === right.length && timingSafeEqual(left, right);
}
