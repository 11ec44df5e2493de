/**
 * Entity module for forks across instances (Hollo style). `persistFork`
 * turns a community's claim that it forked one of our versions into a
 * `policy_forks` row, after checking it against our own version (the fork
 * document must come from that community's origin and name one of our
 * versions with the right hash); idempotent, keyed by the fork's IRI.
 * `toFork` is the `Document` a fork's community announces.
 */
import { Document } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { recordFork } from "../../src/policies/forks.ts";
import { findPolicyById, findVersionByIri, isLocal, type Policy } from "../../src/policies/policies.ts";
import type { FedCtx } from "../context.ts";
import { loadDocument } from "../fetch.ts";
import { isPolicyType } from "./version.ts";

const logger = getLogger(["fedalign", "federation", "forks"]);

/** A fork's policy as the object of the Create that tells the upstream community. */
export function toFork(fork: Pick<Policy, "iri" | "title">, communityIri: URL): Document {
  return new Document({ id: new URL(fork.iri), attribution: communityIri, name: fork.title, url: new URL(fork.iri) });
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
  const forkedFrom = typeof claim.forkedFrom?.id === "string" ? await findVersionByIri(ctx.data.db, claim.forkedFrom.id) : undefined;
  const upstream = forkedFrom ? await findPolicyById(ctx.data.db, forkedFrom.policyId) : undefined;
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
  await recordFork(ctx.data.db, { policy: upstream, forkIri, forkOwnerIri: announcedBy, forkedFromIri: forkedFrom.iri });
  logger.info("{fork} forked {version}.", { fork: forkIri, version: forkedFrom.iri });
  return true;
}

/** A fork announcement into its row (see receiveForkAnnouncement): the entity-module name. */
export const persistFork = receiveForkAnnouncement;
