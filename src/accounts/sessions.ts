/**
 * Web login sessions: a random cookie value, stored as its SHA-256, with a
 * per-session CSRF token that forms must echo back.
 */
import { randomBytes } from "node:crypto";
import { and, eq, gt, lt, ne } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { sessions } from "../../db/schema.ts";
import { hashToken } from "./tokens.ts";
import { findUserById, type User } from "./users.ts";

export const SESSION_COOKIE = "fedalign_session";
export const SESSION_LIFETIME_MS = 30 * 24 * 60 * 60 * 1000;

export function createSession(db: Db, userId: number): { cookieValue: string; csrfToken: string; expiresAt: Date } {
  const cookieValue = randomBytes(32).toString("base64url");
  const csrfToken = randomBytes(24).toString("base64url");
  const expiresAt = new Date(Date.now() + SESSION_LIFETIME_MS);
  db.delete(sessions).where(lt(sessions.expiresAt, new Date())).run();
  db.insert(sessions).values({ idHash: hashToken(cookieValue), userId, csrfToken, expiresAt }).run();
  return { cookieValue, csrfToken, expiresAt };
}

export function sessionUser(db: Db, cookieValue: string): { user: User; csrfToken: string } | undefined {
  const row = db
    .select()
    .from(sessions)
    .where(and(eq(sessions.idHash, hashToken(cookieValue)), gt(sessions.expiresAt, new Date())))
    .get();
  if (!row) return undefined;
  const user = findUserById(db, row.userId);
  return user ? { user, csrfToken: row.csrfToken } : undefined;
}

export function deleteSession(db: Db, cookieValue: string): void {
  db.delete(sessions).where(eq(sessions.idHash, hashToken(cookieValue))).run();
}

/** Signs a user out everywhere except (optionally) the browser holding `keepCookie`, e.g. after a password change. */
export function endOtherSessions(db: Db, userId: number, keepCookie?: string): void {
  const condition = keepCookie ? and(eq(sessions.userId, userId), ne(sessions.idHash, hashToken(keepCookie))) : eq(sessions.userId, userId);
  db.delete(sessions).where(condition).run();
}
