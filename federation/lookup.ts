/**
 * Resolves what a person types (`@nurses@care.example`, `nurses@care.example`
 * or an actor URL) to an actor document, fetched from its own origin through
 * Fedify (WebFinger, then the actor), with errors a person can act on.
 */
import { isActor, type Actor } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { z } from "zod";
import { FedalignError, InvalidInputError, NotFoundError, RemoteError } from "../src/errors.ts";
import { canonicalHost } from "../src/hosts.ts";
import { REMOTE_LIMITS, overLimit } from "../src/limits.ts";
import { isPrivateHost } from "./addresses.ts";
import type { FedCtx } from "./context.ts";
import { fetchDocument, loadDocument, USER_AGENT } from "./fetch.ts";
import { isPolicyType } from "./entities/version.ts";

const logger = getLogger(["fedalign", "federation", "lookup"]);

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

const jrdSchema = z.object({
  subject: z.string().max(1024),
  links: z.array(z.object({ rel: z.string().optional(), type: z.string().optional(), href: z.string().max(2048).optional() }).passthrough()).max(100).default([]),
});

const SELF_TYPES = /^application\/activity\+json$|^application\/ld\+json;\s*profile="https:\/\/www\.w3\.org\/ns\/activitystreams"$/;

function refuse(resource: string, reason: string): RemoteError {
  logger.info("Refused WebFinger answer for {resource}: {reason}.", { resource, reason });
  return new RemoteError(`Refused ${resource}: ${reason}.`);
}

/**
 * Asks `host` for `acct:username@host`. WebFinger is https; local
 * multi-instance setups (--allow-private-address) serve plain http, so
 * there http is tried too.
 */
async function queryWebfinger(ctx: FedCtx, resource: string, host: string): Promise<{ subject: string; self: URL }> {
  const schemes = ctx.data.allowPrivateAddress ? ["https", "http"] : ["https"];
  let failure: unknown;
  for (const scheme of schemes) {
    const url = new URL(`${scheme}://${host}/.well-known/webfinger`);
    url.searchParams.set("resource", resource);
    let document: unknown;
    try {
      ({ document } = await fetchDocument(url.href, { kind: "webfinger", allowPrivateAddress: ctx.data.allowPrivateAddress, userAgent: USER_AGENT }));
    } catch (error) {
      failure = error;
      continue;
    }
    const jrd = jrdSchema.safeParse(document);
    if (!jrd.success) throw refuse(resource, "the WebFinger answer is not a JRD");
    const self = jrd.data.links.find((link) => link.rel === "self" && link.href && SELF_TYPES.test(link.type ?? ""));
    if (!self?.href || !URL.canParse(self.href)) throw refuse(resource, "the WebFinger answer has no ActivityPub self link");
    return { subject: jrd.data.subject, self: new URL(self.href) };
  }
  throw new RemoteError(`Could not look up ${resource}: ${describeFailure(failure)}.`);
}

/**
 * The actor WebFinger names for `acct:username@host`. The answer must be
 * about the account asked for; an answer that names another account as its
 * subject (a server whose accounts live under another domain) is taken only
 * when that account's own host gives the same actor for it.
 */
async function webfinger(ctx: FedCtx, username: string, host: string): Promise<URL> {
  const resource = `acct:${username}@${host}`;
  const answer = await queryWebfinger(ctx, resource, host);
  if (answer.subject.toLowerCase() === resource.toLowerCase()) return answer.self;
  const canonical = HANDLE.exec(answer.subject.replace(/^acct:/i, ""));
  const confirmed = canonical ? await queryWebfinger(ctx, answer.subject, canonical[2]!).catch(() => undefined) : undefined;
  if (confirmed?.subject.toLowerCase() !== answer.subject.toLowerCase() || confirmed.self.href !== answer.self.href) {
    throw refuse(resource, `the WebFinger answer is about ${answer.subject}, which its own host does not confirm`);
  }
  return answer.self;
}

/**
 * The actor a handle names. An actor on another host than the handle's
 * (domain delegation) is taken only when WebFinger on the actor's own host
 * names the same actor for its own account: otherwise any server could
 * answer for anyone.
 */
async function resolveHandle(ctx: FedCtx, handle: string): Promise<unknown> {
  const [, username, host] = HANDLE.exec(handle) ?? [];
  if (!username || !host) throw new InvalidInputError(`"${handle}" is not a fediverse handle.`);
  const actorUrl = await webfinger(ctx, username, host);
  if (canonicalHost(actorUrl.host) === canonicalHost(host)) return ctx.lookupObject(actorUrl.href);
  const actor = await ctx.lookupObject(actorUrl.href);
  const ownName = isActor(actor) ? actor.preferredUsername?.toString() : undefined;
  const confirmed = ownName ? await webfinger(ctx, ownName, actorUrl.host).catch(() => undefined) : undefined;
  if (confirmed?.href !== actorUrl.href) {
    throw refuse(`acct:${username}@${host}`, `its actor ${actorUrl.href} is on another host and that host does not confirm it`);
  }
  return actor;
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
    object = normalised.startsWith("@") ? await resolveHandle(ctx, normalised) : await ctx.lookupObject(normalised);
  } catch (error) {
    if (error instanceof FedalignError) throw error;
    failure = error;
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
    document = (await loadDocument(ctx, normalised, { fresh: true })).document;
  } catch (error) {
    throw new RemoteError(`Could not fetch ${normalised}: ${describeFailure(error)}.`);
  }
  const doc = document as { id?: unknown; type?: unknown; attributedTo?: unknown; name?: unknown; licence?: unknown };
  if (isPolicyType(doc?.type) && typeof doc.id === "string" && typeof doc.attributedTo === "string") {
    if (new URL(doc.attributedTo).origin !== new URL(doc.id).origin) {
      throw new RemoteError(`${normalised} claims a community on another server; refusing to follow it.`);
    }
    const tooLong = overLimit("its name", typeof doc.name === "string" ? doc.name : null, REMOTE_LIMITS.name) ?? overLimit("its licence", typeof doc.licence === "string" ? doc.licence : null, REMOTE_LIMITS.name);
    if (tooLong) throw new RemoteError(`${normalised} cannot be followed: ${tooLong}.`);
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
