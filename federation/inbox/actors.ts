/**
 * Remote actors, received: a profile update refreshes our cached copy; an
 * actor deleting itself takes its follow relations and that copy with it.
 */
import type { InboxContext } from "@fedify/fedify";
import { isActor, type Delete, type Update } from "@fedify/vocab";
import { eq, or } from "drizzle-orm";
import { federatedActors, follows } from "../../db/schema.ts";
import type { InstanceData } from "../context.ts";
import { findFederatedActor, persistActor } from "../entities/actor.ts";

type Ctx = InboxContext<InstanceData>;

/** Only actors we already hold are refreshed (an Update is no way to make us store one). */
export async function onActorUpdated(ctx: Ctx, update: Update): Promise<void> {
  if (update.actorId == null) return;
  if (!await findFederatedActor(ctx.data.db, update.actorId.href)) return;
  const actor = await update.getObject(ctx);
  if (isActor(actor) && actor.id?.href === update.actorId.href) await persistActor(ctx.data, actor);
}

export async function onActorDeleted(ctx: Ctx, del: Delete): Promise<void> {
  if (del.actorId == null) return;
  const iri = del.actorId.href;
  await ctx.data.db.transaction(async (tx) => {
    await tx.delete(follows).where(or(eq(follows.followerIri, iri), eq(follows.followeeIri, iri)));
    await tx.delete(federatedActors).where(eq(federatedActors.iri, iri));
  });
}
