/**
 * Who a social action is done as: the signed-in user, or a community they
 * steward (`as`). Follows and annotations are sent by that local actor.
 */
import type { User } from "../accounts/users.ts";
import { findCommunity, getCommunity } from "../communities.ts";
import type { AppContext } from "./context.ts";
import { assertSteward, isSteward, requireSignedIn, type Viewer } from "./permissions.ts";

export interface LocalActorRef {
  user: User;
  /** The local actor's identifier (a username or a community handle). */
  identifier: string;
  iri: string;
}

/** The user, or (`as`) a community they steward; refused otherwise. */
export async function actingAs(ctx: AppContext, viewer: Viewer, as: string | undefined): Promise<LocalActorRef> {
  const user = requireSignedIn(viewer);
  if (as === undefined) return { user, identifier: user.username, iri: ctx.federation.actorIri(user.username) };
  const community = await getCommunity(ctx.db, as);
  await assertSteward(ctx.db, community, user);
  return { user, identifier: community.handle, iri: ctx.federation.actorIri(community.handle) };
}

/** Whether the viewer may act as the local actor `identifier` (themself, or a community they steward). */
export async function canActAs(ctx: AppContext, viewer: Viewer, identifier: string): Promise<boolean> {
  if (!viewer) return false;
  return identifier === viewer.username || await isSteward(ctx.db, await findCommunity(ctx.db, identifier), viewer);
}

