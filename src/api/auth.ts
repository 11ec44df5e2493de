/**
 * API authentication: a personal token as `Authorization: Bearer <token>`.
 * Handlers call `requireUser(c)`; routes that work anonymously call
 * `optionalUser(c)`.
 */
import type { Context } from "hono";
import type { Db } from "../../db/client.ts";
import { userForToken } from "../accounts/tokens.ts";
import type { User } from "../accounts/users.ts";
import { UnauthorizedError } from "../errors.ts";

export async function optionalUser(c: Context, db: Db): Promise<User | undefined> {
  const header = c.req.header("authorization");
  if (!header) return undefined;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new UnauthorizedError("Malformed Authorization header: use `Authorization: Bearer <token>`.");
  const user = await userForToken(db, match[1]);
  if (!user) throw new UnauthorizedError("This API token is unknown or revoked: create a new one with `fedalign admin token create <username>` or `fedalign login`.");
  return user;
}

export async function requireUser(c: Context, db: Db): Promise<User> {
  const user = await optionalUser(c, db);
  if (!user) throw new UnauthorizedError();
  return user;
}
