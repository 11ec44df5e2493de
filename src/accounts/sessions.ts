/**
 * Web login sessions: a random cookie value, stored as its SHA-256, with a
 * per-session CSRF token that forms must echo back.
 */
import { randomBytes } from "node:crypto";
import { and, eq, gt, lt, ne } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { sessions } from "../../db/schema.ts";
import { hashToken } from "./tokens.ts";
import { findUserById, type User } from "./users.ts";

export const SESSION_COOKIE = "fedalign_session";
export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export async function createSession(db: Db, userId: number): Promise<{ cookieValue: string; csrfToken: string; expiresAt: Date }> {
  const cookieValue = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(24).toString("base64url");
  const expiresAt = new Date(Date.now() + SESSION_LIFETIME_MS);
  await db.delete(sessions).where(lt(sessions.expiresAt, new Date()));
  await db.insert(sessions).values({ idHash: hashToken(cookieValue), userId, csrfToken, expiresAt });
  return { cookieValue, csrfToken, expiresAt };
}

export async function sessionUser(db: Db, cookieValue: string): Promise<{ user: User; csrfToken: string } | undefined> {
  const row = await first(
    db
      .select()
      .from(sessions)
      .where(and(eq(sessions.idHash, hashToken(cookieValue)), gt(sessions.expiresAt, new Date()))),
  );
  if (!row) return undefined;
  const user = await findUserById(db, row.userId);
  return user ? { user, csrfToken: row.csrfToken } : undefined;
}

export async function deleteSession(db: Db, cookieValue: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, hashToken(cookieValue)));
}

/** Signs a user out everywhere except (optionally) the browser holding `keepCookie`, e.g. after a password change. */
export async function endOtherSessions(db: Db, userId: number, keepCookie?: string): Promise<void> {
  const condition = keepCookie ? and(eq(sessions.userId, userId), ne(sessions.idHash, hashToken(keepCookie))) : eq(sessions.userId, userId);
  await db.delete(sessions).where(condition);
}
