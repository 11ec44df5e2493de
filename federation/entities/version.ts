/**
 * Entity module for policy versions (Hollo style): `persistVersion` turns a
 * version received from another instance into rows (idempotent, keyed by
 * the version's IRI), `toVersion` turns a row back into the document we
 * serve and announce, and `persistRetraction` applies the owner's Delete.
 *
 * A received version becomes rows only after
 * checking everything a forger could get wrong: the document comes from the
 * origin of the community that announced it, it is a well-formed version of
 * a policy on that origin, its content hash matches its normative content,
 * and its proof verifies with the community's own Ed25519 key. A version
 * that fails any check is refused and logged; what we hold stays as it was.
 * Idempotent: a version already held (by IRI) changes nothing.
 */
import { notifyVersionPublished } from "../../src/app/notifications.ts";
import { isActor } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { and, eq, gt, inArray } from "drizzle-orm";
import { follows, policies, policyVersions } from "../../db/schema.ts";
import { policyContentSchema } from "../../src/policies/content.ts";
import { contentHash } from "../../src/policies/hash.ts";
import { findVersionByIri, type Policy, type PolicyVersion } from "../../src/policies/policies.ts";
import { verifyDocument } from "../../src/policies/proof.ts";
import { reindexPolicy } from "../../src/policies/search.ts";
import { isVersionType, receivedVersionSchema, type ReceivedVersion } from "../../src/policies/version-document.ts";
import { REMOTE_LIMITS, versionOverLimit } from "../../src/limits.ts";
import type { FedCtx } from "../context.ts";
import { loadDocument } from "../fetch.ts";
import { first } from "../../db/client.ts";

const logger = getLogger(["fedalign", "federation", "policies"]);

/** How many earlier versions we fetch to fill a mirror's history. */
const MAX_BACKFILL = REMOTE_LIMITS.versionsPerActivity;

export class RefusedVersion extends Error {}

/** An Article that is simply not ours to mirror (a blog post, say): not worth a warning. */
class NotAVersion extends RefusedVersion {}

async function fetchDocument(ctx: FedCtx, iri: string): Promise<Record<string, unknown>> {
  // Fresh: a version is immutable and kept verified in policy_versions, so Fedify's
  // document cache would only cost a KV write and a deep copy of each (and could
  // answer "missing" for one announced since).
  const { document } = await loadDocument(ctx, iri, { fresh: true });
  if (typeof document !== "object" || document === null || Array.isArray(document)) {
    throw new RefusedVersion(`${iri} is not a JSON object`);
  }
  return document as Record<string, unknown>;
}

function parseVersion(raw: Record<string, unknown>, expectedIri: string): ReceivedVersion {
  if (!isVersionType(raw.type)) throw new NotAVersion(`${expectedIri} is not a policy version`);
  const parsed = receivedVersionSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new RefusedVersion(`${expectedIri} is malformed (${issue?.path.join(".")}: ${issue?.message})`);
  }
  const version = parsed.data;
  const tooBig = versionOverLimit(policyContentSchema.parse(version.normativeContent), version.changelog);
  if (tooBig) throw new RefusedVersion(`${expectedIri} is too large: ${tooBig}`);
  if (version.id !== expectedIri) throw new RefusedVersion(`${expectedIri} names itself ${version.id}`);
  const origin = new URL(version.id).origin;
  if (new URL(version.attributedTo).origin !== origin || new URL(version.policy).origin !== origin) {
    throw new RefusedVersion(`${version.id} claims a community or policy on another origin`);
  }
  return version;
}

async function verifyIntegrity(ctx: FedCtx, raw: Record<string, unknown>, version: ReceivedVersion): Promise<void> {
  // The hash covers the normative content exactly as it was sent, and that
  // content must already be in normal form (what we store and show is the
  // parsed form, so the two must hash alike).
  if (contentHash(raw.normativeContent as never) !== version.contentHash || contentHash(version.normativeContent) !== version.contentHash) {
    throw new RefusedVersion(`${version.id}: content hash does not match its normative content`);
  }
  const owner = await ctx.lookupObject(version.attributedTo);
  if (!isActor(owner) || owner.id?.href !== version.attributedTo) {
    throw new RefusedVersion(`${version.id}: its community ${version.attributedTo} could not be fetched`);
  }
  const method = version.proof.verificationMethod;
  let publicKey: CryptoKey | null = null;
  for await (const key of owner.getAssertionMethods(ctx)) {
    if (key.id?.href === method && key.controllerId?.href === version.attributedTo) publicKey = key.publicKey;
  }
  if (!publicKey) throw new RefusedVersion(`${version.id}: proof key ${method} is not one of ${version.attributedTo}'s keys`);
  const verified = await verifyDocument(raw, publicKey);
  if (!verified.ok) throw new RefusedVersion(`${version.id}: integrity proof does not verify (${verified.reason})`);
}

function lastSegment(iri: string): string {
  return new URL(iri).pathname.split("/").filter(Boolean).pop() ?? "policy";
}

/** Keeps a checked version; with `notifyFollowers`, the people here who follow it hear of it (in the same transaction) unless a newer one is held already. */
async function storeVersion(ctx: FedCtx, raw: Record<string, unknown>, version: ReceivedVersion, notifyFollowers = false): Promise<PolicyVersion> {
  const content = policyContentSchema.parse(version.normativeContent);
  return await ctx.data.db.transaction(async (tx) => {
    const existing = await first(tx.select().from(policyVersions).where(eq(policyVersions.iri, version.id)).limit(1));
    if (existing) return existing;
    let policy: Policy | undefined = await first(tx.select().from(policies).where(eq(policies.iri, version.policy)).limit(1));
    if (policy && policy.ownerIri !== version.attributedTo) {
      throw new RefusedVersion(`${version.id}: policy ${version.policy} belongs to ${policy.ownerIri}`);
    }
    if (policy?.communityId != null) throw new RefusedVersion(`${version.id}: ${version.policy} is one of our own policies`);
    policy ??= (await first(
      tx
        .insert(policies)
        .values({
          iri: version.policy,
          ownerIri: version.attributedTo,
          communityId: null,
          slug: lastSegment(version.policy),
          title: content.title,
          summary: content.summary,
          licence: content.licence,
        })
        .returning(),
    ))!;
    const clash = await first(
      tx
        .select({ iri: policyVersions.iri })
        .from(policyVersions)
        .where(and(eq(policyVersions.policyId, policy.id), eq(policyVersions.number, version.versionNumber)))
        .limit(1),
    );
    if (clash) throw new RefusedVersion(`${version.id}: we already hold another version ${version.versionNumber} (${clash.iri})`);
    const stored = (await first(
      tx
        .insert(policyVersions)
        .values({
          policyId: policy.id,
          iri: version.id,
          number: version.versionNumber,
          contentHash: version.contentHash,
          changelog: version.changelog,
          document: raw,
          publishedAt: new Date(version.published),
          receivedAt: ctx.data.clock.now(),
        })
        .returning(),
    ))!;
    // The policy row shows the newest version's metadata.
    const newer = await first(
      tx
        .select({ id: policyVersions.id })
        .from(policyVersions)
        .where(and(eq(policyVersions.policyId, policy.id), gt(policyVersions.number, version.versionNumber)))
        .limit(1),
    );
    if (!newer) {
      await tx.update(policies).set({ title: content.title, summary: content.summary, licence: content.licence }).where(eq(policies.id, policy.id));
      if (notifyFollowers) await notifyVersionPublished(ctx.data.db, ctx.canonicalOrigin, { ...policy, title: content.title }, stored, ctx.data.clock.now());
    }
    await reindexPolicy(tx, policy.id);
    return stored;
  });
}

/**
 * Fetches a version from its origin, checks it and stores it, then fills in
 * earlier versions we lack (so a mirror carries the policy's history).
 * `announcedBy` is the actor whose signed activity told us about it; null
 * when someone here asked for it (to fork it), and then the community is the
 * one the document names on its own origin.
 */
export async function receivePolicyVersion(ctx: FedCtx, iri: string, announcedBy: string | null, options: { notifyFollowers?: boolean } = {}): Promise<PolicyVersion | undefined> {
  try {
    return await fetchVerifiedVersion(ctx, iri, announcedBy, options);
  } catch (error) {
    if (error instanceof NotAVersion) {
      logger.debug("Ignored an Article: {reason}", { reason: error.message });
      return undefined;
    }
    if (error instanceof RefusedVersion) {
      logger.info("Refused policy version announced by {actor}: {reason}.", { actor: announcedBy, reason: error.message });
      return undefined;
    }
    throw error;
  }
}

/** Like receivePolicyVersion, but a refusal is thrown (for requests made here). */
export async function fetchVerifiedVersion(ctx: FedCtx, iri: string, announcedBy: string | null, options: { notifyFollowers?: boolean } = {}): Promise<PolicyVersion> {
  const known = await findVersionByIri(ctx.data.db, iri);
  if (known) return known;
  if (announcedBy !== null && new URL(iri).origin !== new URL(announcedBy).origin) {
    throw new RefusedVersion(`${iri} is not on the origin of ${announcedBy}, who announced it`);
  }
  const raw = await fetchDocument(ctx, iri);
  const version = parseVersion(raw, iri);
  const owner = announcedBy ?? version.attributedTo;
  if (version.attributedTo !== owner) throw new RefusedVersion(`${iri} is attributed to ${version.attributedTo}, not ${owner}`);
  if (announcedBy !== null && !await isFollowedHere(ctx, version)) {
    throw new RefusedVersion(`${iri} is unsolicited: nobody here follows ${version.policy} or ${version.attributedTo}`);
  }
  await verifyIntegrity(ctx, raw, version);
  const stored = await storeVersion(ctx, raw, version, options.notifyFollowers);
  logger.info("Stored version {number} of {policy} ({hash}).", { number: stored.number, policy: version.policy, hash: stored.contentHash });
  await backfill(ctx, version, owner);
  return stored;
}

/** Someone here follows the policy or its community (a pending follow counts: its Accept may be on the way). */
async function isFollowedHere(ctx: FedCtx, version: ReceivedVersion): Promise<boolean> {
  const row = await first(
    ctx.data.db
      .select({ id: follows.id })
      .from(follows)
      .where(inArray(follows.followeeIri, [version.policy, version.attributedTo]))
      .limit(1),
  );
  return row !== undefined;
}

async function backfill(ctx: FedCtx, version: ReceivedVersion, owner: string): Promise<void> {
  let previous = version.previousVersion ?? null;
  for (let i = 0; previous && i < MAX_BACKFILL; i++) {
    if (await findVersionByIri(ctx.data.db, previous)) return;
    const raw = await fetchDocument(ctx, previous);
    const earlier = parseVersion(raw, previous);
    if (earlier.attributedTo !== owner || earlier.policy !== version.policy) return;
    await verifyIntegrity(ctx, raw, earlier);
    await storeVersion(ctx, raw, earlier);
    previous = earlier.previousVersion ?? null;
  }
}

/** A Delete from the owning community marks the version retracted; nothing is erased. */
export async function retractReceivedVersion(ctx: FedCtx, iri: string, actorIri: string): Promise<boolean> {
  const version = await findVersionByIri(ctx.data.db, iri);
  if (!version || version.retractedAt) return false;
  const policy = await first(ctx.data.db.select().from(policies).where(eq(policies.id, version.policyId)).limit(1));
  if (!policy || policy.ownerIri !== actorIri || policy.communityId !== null) return false;
  await ctx.data.db.transaction(async (tx) => {
    await tx.update(policyVersions).set({ retractedAt: new Date() }).where(eq(policyVersions.id, version.id));
    await reindexPolicy(tx, version.policyId);
  });
  return true;
}


/**
 * Records a remote policy someone here follows before any of its versions
 * arrived, so the community's Accept can be matched to it and versions
 * attach to it later.
 */
export async function persistPolicyPlaceholder(ctx: FedCtx, doc: { id: string; attributedTo: string; name?: string; licence?: string }): Promise<Policy> {
  const existing = await first(ctx.data.db.select().from(policies).where(eq(policies.iri, doc.id)).limit(1));
  if (existing) return existing;
  return (await first(
    ctx.data.db
      .insert(policies)
      .values({
        iri: doc.id,
        ownerIri: doc.attributedTo,
        communityId: null,
        slug: lastSegment(doc.id),
        title: doc.name ?? lastSegment(doc.id),
        licence: doc.licence ?? "NOASSERTION",
      })
      .returning(),
  ))!;
}

export function isPolicyType(type: unknown): boolean {
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => t === "Policy" || t === "fedalign:Policy" || t === "https://fedalign.org/ns#Policy");
}

/**
 * A version announced to us into rows (see receivePolicyVersion): the
 * entity-module name. Its followers here are notified; the versions a
 * backfill or a fork fetches are history, not news, and notify nobody.
 */
export async function persistVersion(ctx: FedCtx, iri: string, announcedBy: string): Promise<PolicyVersion | undefined> {
  return await receivePolicyVersion(ctx, iri, announcedBy, { notifyFollowers: true });
}

/** The owning community's Delete of a version, into its row (see retractReceivedVersion). */
export const persistRetraction = retractReceivedVersion;

/**
 * A version row as its ActivityPub object: the signed document exactly as
 * published (a version is immutable; its integrity proof covers it), for
 * ours and for the mirrored ones alike.
 */
export function toVersion(version: PolicyVersion): Record<string, unknown> {
  return version.document as Record<string, unknown>;
}
