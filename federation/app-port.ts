/**
 * The application layer's port to the federation (src/app/context.ts),
 * implemented with Fedify: IRIs come from the federation's own routes, and
 * documents are signed with the actor's keys as its key-pairs dispatcher
 * supplies them.
 */
import type { Federation } from "@fedify/fedify";
import type { FederationPort } from "../src/app/context.ts";
import type { FedCtx, InstanceData } from "./context.ts";
import { communitySigner } from "./policy-signing.ts";

export function createFederationPort(federation: Federation<InstanceData>, origin: string, data: InstanceData): FederationPort {
  const ctx = (): FedCtx => federation.createContext(new URL(origin), data);
  return {
    actorIri: (identifier) => ctx().getActorUri(identifier).href,
    followersIri: (identifier) => ctx().getFollowersUri(identifier).href,
    signerFor: (identifier) => communitySigner(ctx(), identifier),
  };
}
