/**
 * Personal API tokens for the JSON API and the CLI. A token is 32 random
 * bytes shown once; only its SHA-256 is stored (a fast hash is right here:
 * the token has 256 bits of entropy, unlike a password).
 */
import { createHash, randomBytes } from "node:crypto";
import { and, desc, eq, isNull } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { apiTokens } from "../../db/schema.ts";
import { NotFoundError } from "../errors.ts";
import { findUserById, type User } from "./users.ts";

const TOKEN_PREFIX = "fda_";

export interface ApiToken {
  id: number;
  label: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export function hashToken(token: string): string {
  return createHash("sha256").update(token).digest("hex");
}

export async function createToken(db: Db, userId: number, label = "cli"): Promise<{ token: string; record: ApiToken }> {
  const token = TOKEN_PREFIX + randomBytes(32).toString("base64url");
  const [row] = await db.insert(apiTokens).values({ userId, label, tokenHash: hashToken(token) }).returning();
  return { token, record: toApiToken(row!) };
}

function toApiToken(row: typeof apiTokens.$inferSelect): ApiToken {
  return { id: row.id, label: row.label, createdAt: row.createdAt, lastUsedAt: row.lastUsedAt, revokedAt: row.revokedAt };
}

/** Resolves a bearer token to its user, or undefined when unknown or revoked. */
export async function userForToken(db: Db, token: string): Promise<User | undefined> {
  const row = await first(
    db
      .select()
      .from(apiTokens)
      .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt))),
  );
  if (!row) return undefined;
  // Coarse last-use tracking: one write per token per minute at most.
  const now = Date.now();
  if (!row.lastUsedAt || now - row.lastUsedAt.getTime() > 60_000) {
    await db.update(apiTokens).set({ lastUsedAt: new Date(now) }).where(eq(apiTokens.id, row.id));
  }
  return await findUserById(db, row.userId);
}

export async function listTokens(db: Db, userId: number): Promise<ApiToken[]> {
  const rows = await db.select().from(apiTokens).where(eq(apiTokens.userId, userId)).orderBy(desc(apiTokens.id));
  return rows.map(toApiToken);
}

export async function revokeToken(db: Db, userId: number, tokenId: number): Promise<ApiToken> {
  const [row] = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, tokenId), eq(apiTokens.userId, userId), isNull(apiTokens.revokedAt)))
    .returning();
  if (!row) throw new NotFoundError(`You have no active token with id ${tokenId}.`);
  return toApiToken(row);
}
