/**
 * Policy versions and forks, received: a followed community published or
 * retracted a version, or a community tells us it forked one of ours.
 * Every check is in the entity modules (../entities/version.ts, fork.ts);
 * a refused version or fork changes nothing.
 */
import type { InboxContext } from "@fedify/fedify";
import type { Create, Delete, Update } from "@fedify/vocab";
import type { InstanceData } from "../context.ts";
import { persistFork } from "../entities/fork.ts";
import { persistRetraction, persistVersion } from "../entities/version.ts";

type Ctx = InboxContext<InstanceData>;

/**
 * A version announced as an `Article` (Create, or Update for a re-announce):
 * the signed document is fetched from its origin and kept if every check
 * passes, with the earlier versions we lack.
 */
export async function onVersionPublished(ctx: Ctx, activity: Create | Update): Promise<void> {
  if (activity.actorId == null || activity.objectId == null) return;
  await persistVersion(ctx, activity.objectId.href, activity.actorId.href);
}

/** The owning community retracted a version: it is marked retracted, nothing is erased. */
export async function onVersionRetracted(ctx: Ctx, del: Delete): Promise<boolean> {
  if (del.actorId == null || del.objectId == null) return false;
  return await persistRetraction(ctx, del.objectId.href, del.actorId.href);
}

/** A community says it forked one of our versions (a Create of its policy `Document`). */
export async function onForkAnnounced(ctx: Ctx, create: Create): Promise<void> {
  if (create.actorId == null || create.objectId == null) return;
  await persistFork(ctx, create.objectId.href, create.actorId.href);
}
