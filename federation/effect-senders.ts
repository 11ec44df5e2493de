/**
 * How each federation effect (src/app/effects.ts) is carried out: the
 * activities it sends or the documents it fetches. The outbox dispatcher
 * (./outbox-dispatcher.ts) calls these after the change has committed.
 * A sender may run again after a crash that interrupted it, so it must
 * not depend on having run before; what it enqueues is written only if it
 * returns.
 */
import { sendActorUpdate } from "./actors.ts";
import type { EffectSenders } from "./outbox-dispatcher.ts";

export const effectSenders: EffectSenders = {
  // Accounts and communities
  "actor.updated": (ctx, effect) => sendActorUpdate(ctx, effect.identifier),

  // Policies, versions, forks and merges

  // Proposals, votes and offers

  // Follows, annotations and other social traffic

  // Preference data and bundles

  // Caused by received activities
};
