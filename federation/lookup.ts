/**
 * Resolves what a person types (`@nurses@care.example`, `nurses@care.example`
 * or an actor URL) to an actor document, fetched from its own origin through
 * Fedify (WebFinger, then the actor), with errors a person can act on.
 */
import { isActor, type Actor } from "@fedify/vocab";
import { InvalidInputError, NotFoundError, RemoteError } from "../src/errors.ts";
import type { FedCtx } from "./context.ts";
import { isPolicyType } from "./persist-policy.ts";

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

/** The SSRF guard, with a message that says how local setups lift it. */
function assertFetchable(ctx: FedCtx, normalised: string): void {
  if (!ctx.data.allowPrivateAddress && isPrivateHost(targetHost(normalised))) {
    throw new InvalidInputError(
      `${normalised} is on a loopback or private address, which this server refuses to fetch; for local setups start it with --allow-private-address.`,
    );
  }
}

export async function lookupActor(ctx: FedCtx, target: string): Promise<Actor> {
  const normalised = normaliseTarget(target);
  assertFetchable(ctx, normalised);
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

export interface FollowTarget {
  /** What is followed: an actor, or a policy. */
  followeeIri: string;
  /** Who receives the Follow and answers it: the actor itself, or the policy's community. */
  answerer: Actor;
  policy?: { id: string; attributedTo: string; name?: string; licence?: string };
}

/**
 * Resolves something to follow: an actor by handle or URL, or a policy by
 * its URL (then the Follow goes to the community that owns it).
 */
export async function lookupFollowTarget(ctx: FedCtx, target: string): Promise<FollowTarget> {
  const normalised = normaliseTarget(target);
  if (normalised.startsWith("@")) {
    const actor = await lookupActor(ctx, normalised);
    return { followeeIri: actor.id!.href, answerer: actor };
  }
  assertFetchable(ctx, normalised);
  let document: unknown;
  try {
    document = (await ctx.documentLoader(normalised)).document;
  } catch (error) {
    throw new RemoteError(`Could not fetch ${normalised}: ${describeFailure(error)}.`);
  }
  const doc = document as { id?: unknown; type?: unknown; attributedTo?: unknown; name?: unknown; licence?: unknown };
  if (isPolicyType(doc?.type) && typeof doc.id === "string" && typeof doc.attributedTo === "string") {
    if (new URL(doc.attributedTo).origin !== new URL(doc.id).origin) {
      throw new RemoteError(`${normalised} claims a community on another server; refusing to follow it.`);
    }
    const answerer = await lookupActor(ctx, doc.attributedTo);
    return {
      followeeIri: doc.id,
      answerer,
      policy: {
        id: doc.id,
        attributedTo: doc.attributedTo,
        name: typeof doc.name === "string" ? doc.name : undefined,
        licence: typeof doc.licence === "string" ? doc.licence : undefined,
      },
    };
  }
  const actor = await lookupActor(ctx, normalised);
  return { followeeIri: actor.id!.href, answerer: actor };
}
