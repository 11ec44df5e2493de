/**
 * The application layer's port to the federation (src/app/context.ts),
 * implemented with Fedify: IRIs come from the federation's own routes, and
 * documents are signed with the actor's keys as its key-pairs dispatcher
 * supplies them.
 */
import type { Federation } from "@fedify/fedify";
import type { FederationPort } from "../src/app/context.ts";
import { FedalignError, InvalidInputError, RemoteError } from "../src/errors.ts";
import { annotationLookup, resolveClause } from "./annotations.ts";
import type { FedCtx, InstanceData } from "./context.ts";
import { lookupFollowTarget } from "./lookup.ts";
import { persistActor } from "./entities/actor.ts";
import { fetchVerifiedVersion, RefusedVersion } from "./entities/version.ts";
import { resolvePollOwner } from "./proposals.ts";
import { isActor } from "@fedify/vocab";
import { ownerIdentifier } from "./policy-activities.ts";
import { datasetPages } from "./preference-datasets.ts";
import { communityProofKey, communitySigner } from "./policy-signing.ts";

export function createFederationPort(federation: Federation<InstanceData>, origin: string, data: InstanceData): FederationPort {
  const ctx = (): FedCtx => federation.createContext(new URL(origin), data);
  return {
    actorIri: (identifier) => ctx().getActorUri(identifier).href,
    followersIri: (identifier) => ctx().getFollowersUri(identifier).href,
    signerFor: (identifier) => communitySigner(ctx(), identifier),
    async lookupFollowTarget(target) {
      const found = await lookupFollowTarget(ctx(), target);
      if (!await persistActor(data, found.answerer)) {
        throw new RemoteError(`${found.followeeIri} cannot be followed: its inbox is not on its own server (see the server log).`);
      }
      return { followeeIri: found.followeeIri, answererIri: found.answerer.id!.href, policy: found.policy };
    },
    annotationTargets: () => annotationLookup(ctx()),
    async resolveClause(iri) {
      try {
        return await resolveClause(ctx(), iri);
      } catch (error) {
        if (error instanceof RefusedVersion) throw new FedalignError(`Cannot annotate ${iri}: ${error.message}.`, 400);
        throw new FedalignError(`Cannot fetch the version of ${iri}: ${(error as Error).message}.`, 502);
      }
    },
    fetchVerifiedVersion: async (iri) => {
      try {
        return await fetchVerifiedVersion(ctx(), iri, null);
      } catch (error) {
        if (error instanceof RefusedVersion) throw new InvalidInputError(error.message);
        throw new RemoteError((error as Error).message);
      }
    },
    resolvePollOwner: async (proposalIri) => await resolvePollOwner(ctx(), proposalIri),
    proofKey: async (identifier) => {
      const key = await communityProofKey(ctx(), identifier);
      return { keyId: key.keyId.href, privateKey: key.privateKey, publicKey: key.publicKey };
    },
    localOwner: (policy) => ownerIdentifier(ctx(), policy),
    remoteAssertionKey: async (actorIri, keyId) => {
      const fed = ctx();
      try {
        const owner = await fed.lookupObject(actorIri);
        if (!isActor(owner)) return undefined;
        for await (const key of owner.getAssertionMethods(fed)) {
          if (key.id?.href === keyId && key.publicKey) return key.publicKey;
        }
      } catch {
        // Unreachable actor: the caller goes on without its key.
      }
      return undefined;
    },
    datasetPages: (policy) => datasetPages(ctx(), policy),
  };
}
