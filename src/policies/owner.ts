/**
 * Who holds a policy, as far as this instance knows: one of its own
 * communities, or a remote actor named by the policy's owner IRI (with the
 * name and handle its actor document gave, once we have fetched it).
 * Pages and bundles each word it their own way; this is the one lookup.
 */
import type { Db } from "../../db/client.ts";
import { findFederatedActor } from "../actors/remote-actors.ts";
import { findCommunityById, type Community } from "../communities.ts";
import type { Policy } from "./policies.ts";

export type PolicyOwner =
  | { local: true; community: Community; name: string; handle: string }
  | {
      local: false;
      /** The actor's display name, when its document gave one. */
      name: string | undefined;
      /** Its preferred username, or else the last segment of its IRI. */
      handle: string;
      host: string;
      iri: string;
      /** Its row in federated_actors (for its page here), when we have seen it. */
      remoteActorId: number | undefined;
    };

export async function policyOwner(db: Db, policy: Policy): Promise<PolicyOwner> {
  const community = policy.communityId !== null ? await findCommunityById(db, policy.communityId) : undefined;
  if (community) return { local: true, community, name: community.name, handle: community.handle };
  const remote = await findFederatedActor(db, policy.ownerIri);
  const url = new URL(policy.ownerIri);
  const handle = remote?.handle ?? url.pathname.split("/").filter(Boolean).pop() ?? url.host;
  return { local: false, name: remote?.name || undefined, handle, host: url.host, iri: policy.ownerIri, remoteActorId: remote?.id };
}
