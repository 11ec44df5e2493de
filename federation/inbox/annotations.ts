/**
 * Annotations, received: a Note replying to a clause or version we hold.
 * On a policy of ours the owning community re-shares a new annotation with
 * its followers and the policy's (a recorded effect), and passes on an
 * author's edit or deletion by forwarding the author's signed activity.
 *
 * A forward has to carry the payload exactly as received, which only the
 * inbox context holds (Fedify's forwardActivity), so it cannot wait for the
 * outbox dispatcher: it is enqueued here instead, with `holdEnqueues`, in
 * the same SQLite transaction as the row change. Either both the edit (or
 * deletion) and its forward are kept, or neither is.
 */
import type { InboxContext } from "@fedify/fedify";
import type { Announce, Delete } from "@fedify/vocab";
import { notifyIfReply } from "../../src/app/notifications.ts";
import { recordEffect } from "../../src/app/outbox.ts";
import { deleteAnnotation, findAnnotation } from "../../src/policies/annotations.ts";
import { findPolicyByIri, isLocal, type Policy } from "../../src/policies/policies.ts";
import { forwardToAudience } from "../annotations.ts";
import { fetchAnnotation, persistAnnotation, receiveReshare } from "../entities/annotation.ts";
import type { InstanceData } from "../context.ts";
import { holdEnqueues } from "../message-queue.ts";
import { policyAudience } from "../policy-activities.ts";

type Ctx = InboxContext<InstanceData>;

/** Whether the activity's author has a Note by this IRI here already (so a Create or Update of it is an edit). */
export async function isHeldAnnotation(ctx: Ctx, noteIri: string, actorIri: string): Promise<boolean> {
  return (await findAnnotation(ctx.data.db, noteIri))?.authorIri === actorIri;
}

/** A new annotation: kept, and re-shared by the owning community when the policy is ours. */
export async function onAnnotationCreated(ctx: Ctx, noteIri: string, actorIri: string): Promise<void> {
  const fetched = await fetchAnnotation(ctx, noteIri, actorIri);
  if (!fetched) return;
  const { db, clock } = ctx.data;
  await db.transaction(async () => {
    const received = await persistAnnotation(ctx, fetched);
    if (!received?.created) return;
    await notifyIfReply(db, ctx.canonicalOrigin, received.annotation, clock.now());
    if (!isLocal(received.policy)) return;
    await recordEffect(db, { kind: "inbox.annotation.reshare", policyIri: received.policy.iri, noteIri: received.annotation.iri, authorIri: received.annotation.authorIri }, clock.now());
  });
}

/** An author edited an annotation we hold: the row follows, and the edit goes on to where it was re-shared. */
export async function onAnnotationEdited(ctx: Ctx, noteIri: string, actorIri: string): Promise<void> {
  const fetched = await fetchAnnotation(ctx, noteIri, actorIri);
  if (!fetched) return;
  if (!isLocal(fetched.policy)) {
    await persistAnnotation(ctx, fetched);
    return;
  }
  await forwardWith(ctx, fetched.policy, async () => (await persistAnnotation(ctx, fetched)) !== undefined);
}

/** The author deleted an annotation: it goes, and so does its re-share where the policy is ours. */
export async function onAnnotationDeleted(ctx: Ctx, del: Delete): Promise<boolean> {
  if (del.actorId == null || del.objectId == null) return false;
  const { db } = ctx.data;
  const noteIri = del.objectId.href;
  const authorIri = del.actorId.href;
  const held = await findAnnotation(db, noteIri);
  // Only the author can delete an annotation.
  if (!held || held.authorIri !== authorIri) return false;
  const policy = await findPolicyByIri(db, held.policyIri);
  if (!policy || !isLocal(policy)) return (await deleteAnnotation(db, noteIri, authorIri)) !== undefined;
  return await forwardWith(ctx, policy, async () => (await deleteAnnotation(db, noteIri, authorIri)) !== undefined);
}

/**
 * Runs `change` and forwards the received activity to the policy's audience
 * in one transaction; when `change` finds nothing to do, nothing is sent.
 */
async function forwardWith(ctx: Ctx, policy: Policy, change: () => Promise<boolean>): Promise<boolean> {
  const { db } = ctx.data;
  if ((await policyAudience(ctx, policy)).length === 0) return await change();
  let changed = false;
  await holdEnqueues(
    db,
    async () => await forwardToAudience(ctx, policy),
    // In the transaction that writes the held messages: database work only.
    async () => {
      changed = await change();
      // Rolls the held forward back with the (empty) change.
      if (!changed) throw new NothingChanged();
    },
  ).catch((error: unknown) => {
    if (!(error instanceof NothingChanged)) throw error;
  });
  return changed;
}

class NothingChanged extends Error {}

/** The owning community re-shared an annotation: we keep our copy, taken from the author's origin (a reply to one of ours is told to its author). */
export async function onAnnotationReshared(ctx: Ctx, announce: Announce): Promise<void> {
  if (announce.actorId == null || announce.objectId == null) return;
  const { db, clock } = ctx.data;
  await receiveReshare(ctx, announce.objectId.href, announce.actorId.href, async (annotation) => await notifyIfReply(db, ctx.canonicalOrigin, annotation, clock.now()));
}
