/**
 * Amendments offered upstream, after ForgeFed's merge requests: a fork's
 * community offers a change set (all its changes since the last upstream
 * version it merged, or chosen clauses) to the upstream community, whose
 * stewards accept it (the changes go into their draft) or reject it with a
 * reason.
 */
import { and, desc, eq } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { offers } from "../../db/schema.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { applyChangeSet, changeSetFromContents, changeSetSchema, describeChangeSet, type ChangeSet } from "./changeset.ts";
import { findVersionByIri, getDraft, headVersion, saveDraft, versionContent, type Policy } from "./policies.ts";

export type Offer = typeof offers.$inferSelect;

/** What a fork has changed since the upstream version it last merged (or forked). */
export async function forkChanges(db: Db, fork: Policy, clauseIds?: string[]): Promise<ChangeSet> {
  if (!fork.upstreamIri || !fork.mergeBaseIri) throw new InvalidInputError(`"${fork.title}" is not a fork, so it has no upstream to offer changes to.`);
  const base = await findVersionByIri(db, fork.mergeBaseIri);
  if (!base) throw new NotFoundError(`The upstream version ${fork.mergeBaseIri} is not held here.`);
  if (base.retractedAt) {
    throw new InvalidInputError(`Upstream retracted version ${base.number}, which your changes are based on; merge a newer upstream version first.`);
  }
  const head = await headVersion(db, fork);
  if (!head) throw new InvalidInputError(`Publish a version of "${fork.title}" first: offers carry published changes.`);
  const changes = changeSetFromContents(versionContent(base), versionContent(head), clauseIds ? { onlyClauseIds: clauseIds } : undefined);
  if (changes.operations.length === 0) {
    throw new InvalidInputError(
      clauseIds ? `None of ${clauseIds.join(", ")} changed since upstream version ${base.number}.` : `"${fork.title}" has no changes since upstream version ${base.number}.`,
    );
  }
  return changes;
}

export async function recordOffer(
  db: Db,
  input: { iri: string; direction: "incoming" | "outgoing"; targetIri: string; originIri: string; actorIri: string; changes: ChangeSet; message: string },
): Promise<Offer> {
  const existing = await first(db.select().from(offers).where(eq(offers.iri, input.iri)).limit(1));
  if (existing) return existing;
  return (await first(db
    .insert(offers)
    .values({ ...input, changes: input.changes as unknown as Record<string, unknown> })
    .returning()))!;
}

export async function findOffer(db: Db, iri: string): Promise<Offer | undefined> {
  return await first(db.select().from(offers).where(eq(offers.iri, iri)).limit(1));
}

export async function getOffer(db: Db, iri: string): Promise<Offer> {
  const offer = await findOffer(db, iri);
  if (!offer) throw new NotFoundError(`No offer ${iri} here; see \`fedalign offers <policy>\`.`);
  return offer;
}

/** Offers to a policy (incoming) or made from it (outgoing), newest first. */
export async function listOffers(db: Db, policy: Policy): Promise<Offer[]> {
  const incoming = await db.select().from(offers).where(and(eq(offers.direction, "incoming"), eq(offers.targetIri, policy.iri))).orderBy(desc(offers.id));
  const outgoing = await db.select().from(offers).where(and(eq(offers.direction, "outgoing"), eq(offers.originIri, policy.iri))).orderBy(desc(offers.id));
  return [...incoming, ...outgoing];
}

export function offerChanges(offer: Offer): ChangeSet {
  return changeSetSchema.parse(offer.changes);
}

export function describeOffer(offer: Offer): string {
  return describeChangeSet(offerChanges(offer));
}

/**
 * Accepting applies the change set to the upstream draft. If any change no
 * longer applies (the clause changed upstream since), nothing is written and
 * the conflicts are reported: edit the draft by hand, or reject the offer.
 */
export async function acceptOffer(db: Db, offer: Offer, policy: Policy): Promise<{ offer: Offer; applied: string[] }> {
  assertPending(offer);
  const result = applyChangeSet(getDraft(policy), offerChanges(offer));
  if (result.conflicts.length > 0) {
    throw new ConflictError(
      `The offer no longer applies cleanly: ${result.conflicts.map((c) => `${c.id} (${c.reason})`).join("; ")}. Edit the draft by hand, or reject the offer.`,
    );
  }
  return await db.transaction(async () => {
    await saveDraft(db, policy, result.content);
    return { offer: await decide(db, offer, "accepted", null), applied: result.applied };
  });
}

export async function rejectOffer(db: Db, offer: Offer, reason: string): Promise<Offer> {
  assertPending(offer);
  return await decide(db, offer, "rejected", reason);
}

/** The other side's decision on an offer we made. */
export async function recordDecision(db: Db, offer: Offer, state: "accepted" | "rejected", reason: string | null): Promise<Offer> {
  if (offer.state !== "pending") return offer;
  return await decide(db, offer, state, reason);
}

function assertPending(offer: Offer): void {
  if (offer.state !== "pending") throw new ConflictError(`This offer was already ${offer.state}.`);
}

async function decide(db: Db, offer: Offer, state: "accepted" | "rejected", reason: string | null): Promise<Offer> {
  return (await first(db.update(offers).set({ state, reason, decidedAt: new Date() }).where(eq(offers.id, offer.id)).returning()))!;
}
