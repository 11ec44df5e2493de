/**
 * Forks across instances. The fork's community tells the upstream community
 * with a `Create` of the fork's policy document (which names the version it
 * was forked from and that version's hash), and subscribes to the upstream
 * policy so that new upstream versions reach it. The upstream instance
 * checks the claim against its own version before listing the fork.
 */
import { Create } from "@fedify/vocab";
import type { Community } from "../src/communities.ts";
import { recordOutgoingFollow } from "../src/follows.ts";
import { findPolicyByIri, type Policy } from "../src/policies/policies.ts";
import { PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import type { FedCtx } from "./context.ts";
import { lookupActor } from "./lookup.ts";
import { newActivityIri, sendFollow } from "./outgoing.ts";
import { persistActor, toRecipient } from "./entities/actor.ts";
import { toFork } from "./entities/fork.ts";

// The receiving side moved to the entity module; the old name stays importable from here.
export { receiveForkAnnouncement } from "./entities/fork.ts";


/** After the fork is stored: follow the upstream policy and tell its community. */
export async function announceFork(ctx: FedCtx, fork: Policy, community: Community): Promise<void> {
  const upstream = fork.upstreamIri ? await findPolicyByIri(ctx.data.db, fork.upstreamIri) : undefined;
  if (!upstream) return;
  const owner = await lookupActor(ctx, upstream.ownerIri);
  const recipient = await persistActor(ctx.data, owner);
  if (!recipient) return;
  const communityIri = ctx.getActorUri(community.handle);
  const follow = await recordOutgoingFollow(ctx.data.db, {
    followerIri: communityIri.href,
    followeeIri: upstream.iri,
    activityIri: newActivityIri(ctx, community.handle, "follows").href,
  });
  await sendFollow(ctx, community.handle, follow, toRecipient(recipient));
  const create = new Create({
    id: newActivityIri(ctx, community.handle, "create"),
    actor: communityIri,
    object: toFork(fork, communityIri),
    to: new URL(PUBLIC_AUDIENCE),
    cc: owner.id,
  });
  await ctx.sendActivity({ identifier: community.handle }, toRecipient(recipient), create);
}
