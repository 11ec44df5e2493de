/**
 * Backfill on follow: when a community accepts our follow, take what it
 * already published instead of waiting for its next version. A followed
 * policy's current head is read fresh from the policy document; a followed
 * actor's versions from its outbox, newest first. Each version goes through
 * receivePolicyVersion, so it is checked exactly as a pushed one would be
 * (origin, hash, proof) and its earlier versions are filled in.
 */
import { getLogger } from "@logtape/logtape";
import { findPolicyByIri, isLocal } from "../src/policies/policies.ts";
import { z } from "../src/zod.ts";
import type { FedCtx } from "./context.ts";
import { loadDocument } from "./fetch.ts";
import { receivePolicyVersion } from "./entities/version.ts";

const logger = getLogger(["fedalign", "federation", "backfill"]);

/** Bounds on an outbox walk: a community with more than this publishes again before we miss anything that matters. */
const MAX_OUTBOX_PAGES = 10;
const MAX_OUTBOX_ITEMS = 200;

const PolicyDoc = z.object({ id: z.string().url(), attributedTo: z.string().url(), headVersion: z.string().url().optional() });
const Ref = z.union([z.string().url(), z.object({ id: z.string().url() }).passthrough()]);
const CollectionDoc = z.object({
  id: z.string().url().optional(),
  first: Ref.optional(),
  next: Ref.optional(),
  orderedItems: z.array(z.unknown()).max(500).optional(),
  items: z.array(z.unknown()).max(500).optional(),
  outbox: z.string().url().optional(),
});

/** What is current at the origin (a followed policy's head moves; an outbox grows). */
async function fetchFresh(ctx: FedCtx, iri: string): Promise<unknown> {
  return (await loadDocument(ctx, iri, { fresh: true })).document;
}

function refIri(ref: z.infer<typeof Ref> | undefined): string | undefined {
  return typeof ref === "string" ? ref : ref?.id;
}

/** What a newly accepted follow of `followeeIri` (a policy or an actor) brings in: the number of versions now held. */
export async function backfillFollowed(ctx: FedCtx, followeeIri: string): Promise<number> {
  const policy = await findPolicyByIri(ctx.data.db, followeeIri);
  if (policy) return isLocal(policy) ? 0 : await backfillPolicy(ctx, policy.iri, policy.ownerIri);
  return await backfillOutbox(ctx, followeeIri);
}

async function backfillPolicy(ctx: FedCtx, policyIri: string, ownerIri: string): Promise<number> {
  const parsed = PolicyDoc.safeParse(await fetchFresh(ctx, policyIri));
  if (!parsed.success || parsed.data.id !== policyIri || parsed.data.attributedTo !== ownerIri) {
    logger.warning("Not backfilling {policy}: its document is not a policy of {owner}.", { policy: policyIri, owner: ownerIri });
    return 0;
  }
  if (!parsed.data.headVersion) return 0;
  return (await receivePolicyVersion(ctx, parsed.data.headVersion, ownerIri)) ? 1 : 0;
}

/** The Create activities of an actor's outbox whose object is on the actor's origin. */
function createdObjects(items: unknown[], actorIri: string): string[] {
  const origin = new URL(actorIri).origin;
  const objects: string[] = [];
  for (const item of items) {
    const activity = item as { type?: unknown; actor?: unknown; object?: unknown };
    if (activity?.type !== "Create") continue;
    const embedded = activity.object as { id?: unknown; type?: unknown } | undefined;
    // Versions are Articles; a microblog's Notes are not worth a fetch each.
    if (typeof embedded === "object" && embedded?.type !== undefined && !String(embedded.type).includes("Article")) continue;
    const object = typeof activity.object === "string" ? activity.object : embedded?.id;
    if (typeof object === "string" && URL.canParse(object) && new URL(object).origin === origin) objects.push(object);
  }
  return objects;
}

async function backfillOutbox(ctx: FedCtx, actorIri: string): Promise<number> {
  const actor = CollectionDoc.safeParse(await fetchFresh(ctx, actorIri));
  const outbox = actor.success ? actor.data.outbox : undefined;
  if (!outbox || new URL(outbox).origin !== new URL(actorIri).origin) return 0;
  let received = 0;
  let seen = 0;
  let next: string | undefined = outbox;
  for (let page = 0; next && page <= MAX_OUTBOX_PAGES && seen < MAX_OUTBOX_ITEMS; page++) {
    if (new URL(next).origin !== new URL(actorIri).origin) break;
    const parsed = CollectionDoc.safeParse(await fetchFresh(ctx, next));
    if (!parsed.success) break;
    const items = parsed.data.orderedItems ?? parsed.data.items ?? [];
    seen += items.length;
    for (const object of createdObjects(items, actorIri)) {
      // Versions are checked one by one; a refused one is logged and skipped.
      if (await receivePolicyVersion(ctx, object, actorIri)) received++;
    }
    next = refIri(parsed.data.next) ?? (page === 0 ? refIri(parsed.data.first) : undefined);
  }
  return received;
}
