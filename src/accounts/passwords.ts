/**
 * Password hashing with scrypt (node:crypto). The stored form records its
 * parameters so they can be raised later without invalidating old hashes:
 * scrypt$N$r$p$salt$hash, salt and hash in base64url.
 *
 * Cost: OWASP's recommendation for scrypt (N = 2^17, r = 8, p = 1), which
 * takes 128 MiB and roughly 0.3 to 0.8 s of one core per hash (it runs on
 * libuv's thread pool, not the event loop). A hash made with weaker
 * parameters (before this version, N = 2^15) is replaced on the user's next
 * successful sign-in (`needsRehash`).
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";

const N = 2 ** 17;
const R = 8;
const P = 1;
const KEY_LENGTH = 32;
// scrypt needs 128 * N * r * p bytes (128 MiB here), over Node's 32 MiB default; leave headroom.
const MAX_MEMORY = 2 * 128 * N * R * P;

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export const MIN_PASSWORD_LENGTH = 8;

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LENGTH, { N, r: R, p: P, maxmem: MAX_MEMORY });
  return ["scrypt", N, R, P, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** True when a stored hash was made with weaker parameters than today's (or is not ours). */
export function needsRehash(stored: string): boolean {
  const [scheme, n, r, p] = stored.split("$");
  return scheme !== "scrypt" || Number(n) < N || Number(r) < R || Number(p) < P;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  // A stored hash asking for more than twice today's memory is not one we made.
  if (128 * Number(n) * Number(r) * Number(p) > MAX_MEMORY) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scrypt(password, Buffer.from(salt, "base64url"), expected.length, {
    N: Number(n),
    r: Number(r),
    p: Number(p),
    maxmem: MAX_MEMORY,
  });
  return timingSafeEqual(expected, actual);
}
