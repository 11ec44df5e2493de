/**
 * What every use case receives: the instance's database, its origin, its
 * clock, and a port to the federation layer for the few things a use case
 * needs from it before it can commit (signing a document as a community,
 * looking up a remote actor). The port is an interface implemented in
 * federation/app-port.ts, so this layer never imports Fedify and tests can
 * pass their own.
 */
import type { Db } from "../../db/client.ts";
import type { AnnotationLookup } from "../policies/annotation.ts";
import type { Policy, PolicyVersion } from "../policies/policies.ts";
import type { DocumentSigner } from "../policies/publish.ts";
import type { Clock } from "./clock.ts";

export interface FederationPort {
  /** The IRI of a local actor (user or community). */
  actorIri(identifier: string): string;
  /** The IRI of a local actor's followers collection. */
  followersIri(identifier: string): string;
  /** Signs documents as a local actor. */
  signerFor(identifier: string): DocumentSigner;
  /**
   * Looks up something to follow (an actor by @handle@host or URL, or a
   * remote policy by URL) and caches the profile of whoever answers the
   * Follow. Throws a FedalignError when it cannot be followed.
   */
  lookupFollowTarget(target: string): Promise<FollowTargetRef>;
  /** Resolves annotation targets (clauses, versions, proposals) to what this instance holds. */
  annotationTargets(): AnnotationLookup;
  /**
   * A clause to annotate by IRI; a clause of a version not held here is
   * fetched from its origin and verified first. Undefined when the IRI is
   * not a clause IRI. Throws a FedalignError when the version is refused
   * (400) or cannot be fetched (502).
   */
  resolveClause(iri: string): Promise<{ versionIri: string; policyIri: string; clauseId: string } | undefined>;
  /**
   * A policy version by IRI, held here or fetched from its origin and
   * verified (hash and signature), then stored as a mirror. Throws
   * InvalidInputError when the document is not a valid version, RemoteError
   * when it cannot be fetched.
   */
  fetchVerifiedVersion(iri: string): Promise<PolicyVersion>;
  /**
   * Fetches another instance's proposal (a poll) and looks up the community
   * that owns it, keeping it as a known actor; returns that community's IRI.
   * Throws when the poll cannot be fetched or names no community on its own
   * server.
   */
  resolvePollOwner(proposalIri: string): Promise<string>;
  /** A local actor's Ed25519 proof key (bundles sign their manifest with the instance's). */
  proofKey(identifier: string): Promise<{ keyId: string; privateKey: CryptoKey; publicKey: CryptoKey }>;
  /** The identifier of the local community owning a policy; undefined for a followed policy. */
  localOwner(policy: Policy): string | undefined;
  /** The key a remote actor lists under `keyId` among its assertion methods; undefined when it cannot be fetched. */
  remoteAssertionKey(actorIri: string, keyId: string): Promise<CryptoKey | undefined>;
  /** The signed pages of a local policy's federated preference dataset, in order, as pullers get them. */
  datasetPages(policy: Policy): AsyncIterable<Record<string, unknown>>;
}

export interface FollowTargetRef {
  /** What is followed: an actor, or a policy. */
  followeeIri: string;
  /** Who receives the Follow and answers it (the actor, or the policy's community). */
  answererIri: string;
  /** A remote policy followed before any of its versions arrived. */
  policy?: { id: string; attributedTo: string; name?: string; licence?: string };
}

export interface AppContext {
  db: Db;
  /** e.g. "https://align.example"; IRIs of local objects start with it. */
  origin: string;
  clock: Clock;
  federation: FederationPort;
}
