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

/**
 * WebFinger is https-only in Fedify, as the spec says. Local multi-instance
 * setups (--allow-private-address) serve plain http, so there we also ask
 * the host's WebFinger over http and follow its `self` link.
 */
async function lookupOverPlainHttp(ctx: FedCtx, handle: string): Promise<unknown> {
  const [, username, host] = HANDLE.exec(handle) ?? [];
  if (!username || !host) return null;
  const url = new URL(`http://${host}/.well-known/webfinger`);
  url.searchParams.set("resource", `acct:${username}@${host}`);
  const response = await fetch(url, { headers: { Accept: "application/jrd+json" }, signal: AbortSignal.timeout(10_000) });
  if (!response.ok) return null;
  const jrd = (await response.json()) as { links?: { rel?: string; type?: string; href?: string }[] };
  const self = jrd.links?.find((link) => link.rel === "self" && link.href && /activity\+json|ld\+json/.test(link.type ?? ""));
  return self?.href ? ctx.lookupObject(self.href) : null;
}

/** Host names that are this machine or a private network, judged from the name alone. */
export function isPrivateHost(host: string): boolean {
  const name = host.replace(/:\d+$/, "").replace(/^\[|\]$/g, "").toLowerCase();
  return (
    name === "localhost" ||
    name.endsWith(".localhost") ||
    name === "::1" ||
    /^127\./.test(name) ||
    /^10\./.test(name) ||
    /^192\.168\./.test(name) ||
    /^172\.(1[6-9]|2\d|3[01])\./.test(name) ||
    /^169\.254\./.test(name) ||
    /^0\./.test(name) ||
    /^f[cd][0-9a-f]{2}:/.test(name)
  );
}

function targetHost(normalised: string): string {
  return normalised.startsWith("@") ? normalised.slice(normalised.lastIndexOf("@") + 1) : new URL(normalised).host;
}

export async function lookupActor(ctx: FedCtx, target: string): Promise<Actor> {
  const normalised = normaliseTarget(target);
  if (!ctx.data.allowPrivateAddress && isPrivateHost(targetHost(normalised))) {
    throw new InvalidInputError(
      `${normalised} is on a loopback or private address, which this server refuses to fetch; for local setups start it with --allow-private-address.`,
    );
  }
  let object: unknown;
  let failure: unknown;
  try {
    object = await ctx.lookupObject(normalised);
  } catch (error) {
    failure = error;
  }
  if (object == null && ctx.data.allowPrivateAddress && normalised.startsWith("@")) {
    try {
      object = await lookupOverPlainHttp(ctx, normalised);
    } catch (error) {
      failure ??= error;
    }
  }
  if (object == null && failure !== undefined) {
    throw new RemoteError(`Could not look up ${normalised}: ${describeFailure(failure)}.`);
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
