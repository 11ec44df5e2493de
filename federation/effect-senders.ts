/**
 * How each federation effect (src/app/effects.ts) is carried out: the
 * activities it sends or the documents it fetches. The outbox dispatcher
 * (./outbox-dispatcher.ts) calls these after the change has committed.
 * A sender may run again after a crash that interrupted it, so it must
 * not depend on having run before; what it enqueues is written only if it
 * returns.
 */
import { findCommunity } from "../src/communities.ts";
import { findPolicyById, findVersionById } from "../src/policies/policies.ts";
import { sendActorUpdate } from "./actors.ts";
import { announceFork } from "./forks.ts";
import { sendVersionPublished, sendVersionRetracted } from "./policy-activities.ts";
import type { EffectSenders } from "./outbox-dispatcher.ts";

export const effectSenders: EffectSenders = {
  // Accounts and communities
  "actor.updated": (ctx, effect) => sendActorUpdate(ctx, effect.identifier),

  // Policies, versions, forks and merges
  "version.published": async (ctx, effect) => {
    const policy = findPolicyById(ctx.data.db, effect.policyId);
    const version = findVersionById(ctx.data.db, effect.versionId);
    if (policy && version) await sendVersionPublished(ctx, policy, version);
  },
  "version.retracted": async (ctx, effect) => {
    const policy = findPolicyById(ctx.data.db, effect.policyId);
    const version = findVersionById(ctx.data.db, effect.versionId);
    if (policy && version) await sendVersionRetracted(ctx, policy, version);
  },
  "fork.announced": async (ctx, effect) => {
    const fork = findPolicyById(ctx.data.db, effect.forkId);
    const community = findCommunity(ctx.data.db, effect.community);
    if (fork && community) await announceFork(ctx, fork, community);
  },

  // Proposals, votes and offers

  // Follows, annotations and other social traffic

  // Preference data and bundles

  // Caused by received activities
};
