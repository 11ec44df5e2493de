/**
 * Use cases of communities: what a steward changes about their community.
 * (Membership and creation move here as their routes are rewritten.)
 */
import { CommunityChanges } from "../api/schemas.ts";
import { getCommunity, updateCommunity, type Community } from "../communities.ts";
import type { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import { recordEffect } from "./outbox.ts";
import { assertSteward, type Viewer } from "./permissions.ts";

export type CommunityChangesInput = z.output<typeof CommunityChanges>;

/** Changes a community's profile; its followers hear of it (an Update of the actor). */
export function updateCommunityProfile(ctx: AppContext, viewer: Viewer, handle: string, changes: CommunityChangesInput): Community {
  const community = getCommunity(ctx.db, handle);
  assertSteward(ctx.db, community, viewer);
  return ctx.db.transaction(() => {
    const updated = updateCommunity(ctx.db, community, changes);
    recordEffect(ctx.db, { kind: "actor.updated", identifier: community.handle }, ctx.clock.now());
    return updated;
  });
}
