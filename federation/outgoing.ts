/**
 * Activities this instance sends about follow relations. Each is carried
 * out by the outbox dispatcher (./effect-senders.ts) after the change that
 * caused it has committed.
 */
import { Accept, Reject, Undo, type Recipient } from "@fedify/vocab";
import type { FedCtx } from "./context.ts";
import { toFollow, type FollowActivityRef } from "./entities/follow.ts";

export function newActivityIri(ctx: FedCtx, identifier: string, kind: string): URL {
  return new URL(`#${kind}/${crypto.randomUUID()}`, ctx.getActorUri(identifier));
}

export type { FollowActivityRef };
const followActivity = toFollow;

export async function sendFollow(ctx: FedCtx, identifier: string, follow: FollowActivityRef, followee: Recipient): Promise<void> {
  await ctx.sendActivity({ identifier }, followee, followActivity(follow));
}

export async function sendUndoFollow(ctx: FedCtx, identifier: string, follow: FollowActivityRef, followee: Recipient): Promise<void> {
  const undo = new Undo({
    id: newActivityIri(ctx, identifier, "undo"),
    actor: ctx.getActorUri(identifier),
    object: followActivity(follow),
  });
  await ctx.sendActivity({ identifier }, followee, undo);
}

/** Answers a Follow; the Follow is embedded, as Mastodon expects. */
export async function sendFollowAnswer(
  ctx: FedCtx,
  identifier: string,
  follow: FollowActivityRef,
  follower: Recipient,
  answer: "accept" | "reject",
): Promise<void> {
  const Answer = answer === "accept" ? Accept : Reject;
  const activity = new Answer({
    id: newActivityIri(ctx, identifier, answer),
    actor: ctx.getActorUri(identifier),
    object: followActivity(follow),
  });
  await ctx.sendActivity({ identifier }, follower, activity);
}
