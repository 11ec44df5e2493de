/**
 * Password hashing with scrypt (node:crypto). The stored form records its
 * parameters, so the cost can change without invalidating old hashes:
 * scrypt$N$r$p$salt$hash, salt and hash in base64url. A hash verifies with
 * the parameters it was made with, whatever the current setting.
 *
 * Cost: FEDALIGN_PASSWORD_HASH_COST is log2 of scrypt's N (r = 8, p = 1).
 * The default, 17, is OWASP's recommendation for scrypt: 128 MiB and roughly
 * 0.3 to 0.8 s of one core per hash (it runs on libuv's thread pool, not the
 * event loop). Each step down halves both. A stored hash made at a lower
 * cost than the current setting is replaced on the member's next successful
 * sign-in (`needsRehash`); one made at a higher cost is kept.
 */
import { randomBytes, scrypt as scryptCallback, timingSafeEqual, type ScryptOptions } from "node:crypto";
import { InvalidInputError } from "../errors.ts";
import { z } from "../zod.ts";

export const PASSWORD_HASH_COST_VARIABLE = "FEDALIGN_PASSWORD_HASH_COST";
export const DEFAULT_PASSWORD_HASH_COST = 17;
/** 2^10 takes about a millisecond (for tests); 2^20 takes 1 GiB per hash in flight. */
export const MIN_PASSWORD_HASH_COST = 10;
export const MAX_PASSWORD_HASH_COST = 20;

const R = 8;
const P = 1;
const KEY_LENGTH = 32;
/** scrypt needs 128 * N * r * p bytes, over Node's 32 MiB default from N = 2^15; leave headroom. */
const maxMemory = (n: number, r: number, p: number) => 2 * 128 * n * r * p;
/** The most memory a hash we could have made asks for (at the highest cost this version allows). */
const MAX_MEMORY = maxMemory(2 ** MAX_PASSWORD_HASH_COST, R, P);

const range = `must be a whole number from ${MIN_PASSWORD_HASH_COST} to ${MAX_PASSWORD_HASH_COST} (log2 of scrypt's N; the default is ${DEFAULT_PASSWORD_HASH_COST})`;
export const passwordHashCostSchema = z.coerce
  .number({ error: range })
  .int(range)
  .min(MIN_PASSWORD_HASH_COST, range)
  .max(MAX_PASSWORD_HASH_COST, range);

/**
 * The cost set by FEDALIGN_PASSWORD_HASH_COST (unset or empty: the default).
 * Read at each hash, so it is the setting of the moment; `fedalign serve`
 * checks it at start-up (src/config.ts) so a bad value fails there.
 */
export function passwordHashCost(env: NodeJS.ProcessEnv = process.env): number {
  const value = env[PASSWORD_HASH_COST_VARIABLE]?.trim();
  if (!value) return DEFAULT_PASSWORD_HASH_COST;
  const result = passwordHashCostSchema.safeParse(value);
  if (!result.success) {
    throw new InvalidInputError(`${PASSWORD_HASH_COST_VARIABLE} ${result.error.issues[0]?.message ?? range}; it is "${value}".`);
  }
  return result.data;
}

function scrypt(password: string, salt: Buffer, keyLength: number, options: ScryptOptions): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scryptCallback(password, salt, keyLength, options, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

export const MIN_PASSWORD_LENGTH = 8;

export async function hashPassword(password: string, cost: number = passwordHashCost()): Promise<string> {
  const n = 2 ** cost;
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, KEY_LENGTH, { N: n, r: R, p: P, maxmem: maxMemory(n, R, P) });
  return ["scrypt", n, R, P, salt.toString("base64url"), hash.toString("base64url")].join("$");
}

/** True when a stored hash was made with weaker parameters than the current setting's (or is not ours). */
export function needsRehash(stored: string, cost: number = passwordHashCost()): boolean {
  const [scheme, n, r, p] = stored.split("$");
  return scheme !== "scrypt" || Number(n) < 2 ** cost || Number(r) < R || Number(p) < P;
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || !n || !r || !p || !salt || !hash) return false;
  const [nn, rr, pp] = [Number(n), Number(r), Number(p)];
  if (![nn, rr, pp].every((value) => Number.isSafeInteger(value) && value > 0)) return false;
  // A stored hash asking for more memory than the highest cost allows is not one we made.
  if (maxMemory(nn, rr, pp) > MAX_MEMORY) return false;
  const expected = Buffer.from(hash, "base64url");
  const actual = await scrypt(password, Buffer.from(salt, "base64url"), expected.length, { N: nn, r: rr, p: pp, maxmem: maxMemory(nn, rr, pp) });
  return timingSafeEqual(expected, actual);
}
