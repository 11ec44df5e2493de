/**
 * Resolves what a person types (`@nurses@care.example`, `nurses@care.example`
 * or an actor URL) to an actor document, fetched from its own origin through
 * Fedify (WebFinger, then the actor), with errors a person can act on.
 */
import { isActor, type Actor } from "@fedify/vocab";
import { InvalidInputError, NotFoundError, RemoteError } from "../src/errors.ts";
import type { FedCtx } from "./context.ts";

const HANDLE = /^@?([^@\s/]+)@([^@\s/]+)$/;

export function normaliseTarget(target: string): string {
  const trimmed = target.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    try {
      return new URL(trimmed).href;
    } catch {
      throw new InvalidInputError(`"${target}" is not a valid URL.`);
    }
  }
  const handle = HANDLE.exec(trimmed.replace(/^acct:/i, ""));
  if (!handle) {
    throw new InvalidInputError(`"${target}" is neither a fediverse handle (@name@host) nor an actor URL (https://...).`);
  }
  return `@${handle[1]}@${handle[2]}`;
}

function describeFailure(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  if (/private|loopback|localhost/i.test(message)) {
    return `${message}. Fetching private and loopback addresses is refused unless the server runs with --allow-private-address`;
  }
  return message;
}

export async function lookupActor(ctx: FedCtx, target: string): Promise<Actor> {
  const normalised = normaliseTarget(target);
  let object: unknown;
  try {
    object = await ctx.lookupObject(normalised);
  } catch (error) {
    throw new RemoteError(`Could not look up ${normalised}: ${describeFailure(error)}.`);
  }
  if (object == null) {
    throw new NotFoundError(`Nothing found at ${normalised}: check the handle or URL, and that the server is up.`);
  }
  if (!isActor(object)) {
    throw new InvalidInputError(`${normalised} is not an actor (a community or a person) that can be followed.`);
  }
  if (object.id == null || object.inboxId == null) {
    throw new RemoteError(`${normalised} has no inbox, so it cannot be followed.`);
  }
  return object;
}
