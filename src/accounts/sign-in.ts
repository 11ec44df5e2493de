/**
 * Signing in with a password, rate-limited against guessing.
 *
 * Failed attempts are counted per account and per client address over a
 * 15-minute window; once either count reaches its limit, further attempts
 * are refused before the password is even checked (which also spares the
 * server an expensive scrypt hash per guess) until the window has passed.
 * A successful sign-in clears the account's count. The counts live in the
 * database (sign_in_limits, through rate-limiter-flexible's Drizzle store),
 * so every web process on it counts together and a restart forgets nothing;
 * expired counts are pruned with the other stale rows (src/retention.ts).
 *
 * The per-account limit means someone who knows a username can keep its
 * owner from signing in with a password for as long as they keep failing;
 * API tokens and open sessions still work. That is the usual price of
 * stopping a password being guessed from many addresses.
 */
import { lte } from "drizzle-orm";
import { RateLimiterDrizzle, RateLimiterRes } from "rate-limiter-flexible";
import type { Db } from "../../db/client.ts";
import { signInLimits } from "../../db/schema.ts";
import { TooManyRequestsError } from "../errors.ts";
import { authenticate } from "./users.ts";
import type { User } from "./users.ts";

export const SIGN_IN_WINDOW_SECONDS = 15 * 60;
/** Failed sign-ins allowed per account in the window. */
export const FAILURES_PER_ACCOUNT = 5;
/** Failed sign-ins allowed per client address in the window (a few people may share one). */
export const FAILURES_PER_ADDRESS = 10;

interface Limiters {
  account: RateLimiterDrizzle;
  address: RateLimiterDrizzle;
}

// One set of counters per instance (tests open several in one process).
const limiters = new WeakMap<Db, Limiters>();

function limitersOf(db: Db): Limiters {
  let found = limiters.get(db);
  if (!found) {
    found = {
      account: limiter(db, "account", FAILURES_PER_ACCOUNT),
      address: limiter(db, "address", FAILURES_PER_ADDRESS),
    };
    limiters.set(db, found);
  }
  return found;
}

function limiter(db: Db, keyPrefix: string, points: number): RateLimiterDrizzle {
  // Expired rows go with the retention pass (pruneSignInLimits), not a timer per limiter.
  return new RateLimiterDrizzle({ storeClient: db, schema: signInLimits, keyPrefix, points, duration: SIGN_IN_WINDOW_SECONDS, clearExpiredByTimeout: false });
}

/** Seconds until the key may try again, or 0 when it may now. */
async function waitSeconds(limiter: RateLimiterDrizzle, key: string, limit: number): Promise<number> {
  const state = await limiter.get(key);
  if (!state || state.consumedPoints < limit) return 0;
  return Math.max(1, Math.ceil(state.msBeforeNext / 1000));
}

async function countFailure(limiter: RateLimiterDrizzle, key: string): Promise<void> {
  try {
    await limiter.consume(key);
  } catch (error) {
    // Over the limit: already counted; anything else is a real error.
    if (!(error instanceof RateLimiterRes)) throw error;
  }
}

/**
 * The user whose password this is, or undefined for a wrong username or
 * password; throws TooManyRequestsError (429, with the seconds to wait)
 * while the account or the address is locked out.
 */
export async function signIn(db: Db, input: { username: string; password: string; clientAddress: string }): Promise<User | undefined> {
  const { account, address } = limitersOf(db);
  const accountKey = input.username.trim().toLowerCase();
  const wait = Math.max(
    await waitSeconds(account, accountKey, FAILURES_PER_ACCOUNT),
    await waitSeconds(address, input.clientAddress, FAILURES_PER_ADDRESS),
  );
  if (wait > 0) {
    throw new TooManyRequestsError(`Too many failed sign-ins: try again in ${Math.ceil(wait / 60)} minute${wait > 60 ? "s" : ""}.`, wait);
  }
  const user = await authenticate(db, input.username, input.password);
  if (user) {
    await account.delete(accountKey);
    return user;
  }
  await Promise.all([countFailure(account, accountKey), countFailure(address, input.clientAddress)]);
  return undefined;
}

/** Deletes sign-in counts whose window ended before `now` (the retention pass calls this). */
export async function pruneSignInLimits(db: Db, now: Date): Promise<number> {
  const gone = await db.delete(signInLimits).where(lte(signInLimits.expire, now)).returning({ key: signInLimits.key });
  return gone.length;
}
