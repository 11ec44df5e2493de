/**
 * Forks across instances. The fork's community tells the upstream community
 * with a `Create` of the fork's policy document (which names the version it
 * was forked from and that version's hash), and subscribes to the upstream
 * policy so that new upstream versions reach it. The upstream instance
 * checks the claim against its own version before listing the fork.
 */
import { Create, Document } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import type { Community } from "../src/communities.ts";
import { recordOutgoingFollow } from "../src/follows.ts";
import { recordFork } from "../src/policies/forks.ts";
import { findPolicyById, findPolicyByIri, findVersionByIri, isLocal, type Policy } from "../src/policies/policies.ts";
import { PUBLIC_AUDIENCE } from "../src/policies/version-document.ts";
import type { FedCtx } from "./context.ts";
import { loadDocument } from "./fetch.ts";
import { lookupActor } from "./lookup.ts";
import { newActivityIri, sendFollow } from "./outgoing.ts";
import { isPolicyType } from "./persist-policy.ts";
import { persistActor, toRecipient } from "./persist-actor.ts";

const logger = getLogger(["fedalign", "federation", "forks"]);

/** After the fork is stored: follow the upstream policy and tell its community. */
export async function announceFork(ctx: FedCtx, fork: Policy, community: Community): Promise<void> {
  const upstream = fork.upstreamIri ? findPolicyByIri(ctx.data.db, fork.upstreamIri) : undefined;
  if (!upstream) return;
  const owner = await lookupActor(ctx, upstream.ownerIri);
  const recipient = persistActor(ctx.data, owner);
  if (!recipient) return;
  const communityIri = ctx.getActorUri(community.handle);
  const follow = recordOutgoingFollow(ctx.data.db, {
    followerIri: communityIri.href,
    followeeIri: upstream.iri,
    activityIri: newActivityIri(ctx, community.handle, "follows").href,
  });
  await sendFollow(ctx, community.handle, follow, toRecipient(recipient));
  const create = new Create({
    id: newActivityIri(ctx, community.handle, "create"),
    actor: communityIri,
    object: new Document({ id: new URL(fork.iri), attribution: communityIri, name: fork.title, url: new URL(fork.iri) }),
    to: new URL(PUBLIC_AUDIENCE),
    cc: owner.id,
  });
  await ctx.sendActivity({ identifier: community.handle }, toRecipient(recipient), create);
}

interface ForkClaim {
  id?: unknown;
  type?: unknown;
  attributedTo?: unknown;
  forkedFrom?: { id?: unknown; contentHash?: unknown };
}

/**
 * Upstream side: a community says it forked one of our versions. The fork
 * document must come from that community's origin and name one of our
 * versions with the right hash.
 */
export async function receiveForkAnnouncement(ctx: FedCtx, forkIri: string, announcedBy: string): Promise<boolean> {
  if (new URL(forkIri).origin !== new URL(announcedBy).origin) {
    logger.info("Refused fork {fork}: not on the origin of {actor}.", { fork: forkIri, actor: announcedBy });
    return false;
  }
  const { document } = await loadDocument(ctx, forkIri, { fresh: true });
  const claim = document as ForkClaim;
  if (!isPolicyType(claim?.type) || claim.id !== forkIri || claim.attributedTo !== announcedBy) return false;
  const forkedFrom = typeof claim.forkedFrom?.id === "string" ? findVersionByIri(ctx.data.db, claim.forkedFrom.id) : undefined;
  const upstream = forkedFrom ? findPolicyById(ctx.data.db, forkedFrom.policyId) : undefined;
  if (!forkedFrom || !upstream || !isLocal(upstream)) {
    logger.debug("Ignored a policy {fork} that is not a fork of ours.", { fork: forkIri });
    return false;
  }
  if (claim.forkedFrom?.contentHash !== forkedFrom.contentHash) {
    logger.info("Refused fork {fork}: it claims hash {claimed} for {version}, which is {actual}.", {
      fork: forkIri,
      claimed: String(claim.forkedFrom?.contentHash),
      version: forkedFrom.iri,
      actual: forkedFrom.contentHash,
    });
    return false;
  }
  recordFork(ctx.data.db, { policy: upstream, forkIri, forkOwnerIri: announcedBy, forkedFromIri: forkedFrom.iri });
  logger.info("{fork} forked {version}.", { fork: forkIri, version: forkedFrom.iri });
  return true;
}
