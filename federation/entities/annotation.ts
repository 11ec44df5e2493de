/**
 * Entity module for annotations (Hollo style). `fetchAnnotation` takes a
 * Note from its author's origin and checks it; `persistAnnotation` turns it
 * into its row (idempotent, keyed by the Note's IRI: an edit replaces the
 * row, an IRI held for another author is refused); `receiveAnnotation` does
 * both. `toAnnotation` turns a row's Note back into the standard
 * ActivityStreams object. Replies resolve to clauses and versions we hold
 * through `annotationLookup`.
 */
import { Temporal } from "../temporal.ts";
import { Note } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { parseAnnotationNote, type AnnotationLookup, type ParsedAnnotation } from "../../src/policies/annotation.ts";
import { clauseTextIn, deleteAnnotation, findAnnotation, isBlocked, storeAnnotation, type Annotation } from "../../src/policies/annotations.ts";
import { findPolicyByIri, findVersionByIri, getPolicyById, headVersion, type Policy } from "../../src/policies/policies.ts";
import { findProposal } from "../../src/participation/proposals.ts";
import { clauseIri } from "../../src/policies/iris.ts";
import type { FedCtx } from "../context.ts";
import { loadDocument } from "../fetch.ts";
import { fetchVerifiedVersion } from "./version.ts";

const logger = getLogger(["fedalign", "federation", "annotations"]);

const CLAUSE_IRI = /^(.+\/versions\/\d+)\/clauses\/([^/?#]+)$/;
const PROPOSAL_IRI = /^(.+)\/proposals\/(\d+)$/;

export { clauseIri };

/** Resolves reply targets to versions and clauses this instance holds. */
export function annotationLookup(ctx: FedCtx): AnnotationLookup {
  const db = ctx.data.db;
  const versionOf = async (iri: string) => {
    const version = await findVersionByIri(db, iri);
    if (version) return { versionIri: version.iri, policyIri: (await getPolicyById(db, version.policyId)).iri };
    // A reply to a proposal is part of its discussion: the proposal IRI stands for the version.
    const proposal = PROPOSAL_IRI.exec(iri);
    if (proposal) {
      const owner = await findPolicyByIri(db, proposal[1]!);
      const row = owner ? await findProposal(db, Number(proposal[2])) : undefined;
      return owner && row && row.policyId === owner.id ? { versionIri: iri, policyIri: owner.iri } : undefined;
    }
    // A reply to the policy itself annotates its newest version.
    const policy = await findPolicyByIri(db, iri);
    const head = policy ? await headVersion(db, policy) : undefined;
    if (policy && head) return { versionIri: head.iri, policyIri: policy.iri };
    // A reply to an annotation on a whole version (or in a proposal's discussion) joins it there.
    const parent = await findAnnotation(db, iri);
    return parent && parent.clauseId === null ? { versionIri: parent.versionIri, policyIri: parent.policyIri } : undefined;
  };
  return {
    versionFromIri: versionOf,
    async clauseFromIri(iri) {
      const match = CLAUSE_IRI.exec(iri);
      const version = match ? await versionOf(match[1]!) : undefined;
      if (match && version) return { ...version, clauseId: decodeURIComponent(match[2]!) };
      // A reply to an annotation on a clause is on that clause too.
      const parent = match ? undefined : await findAnnotation(db, iri);
      return parent?.clauseId != null ? { versionIri: parent.versionIri, policyIri: parent.policyIri, clauseId: parent.clauseId } : undefined;
    },
  };
}

/**
 * A clause to annotate, by IRI. A clause of a version we do not hold (no
 * follow needed) is resolved on demand: the version is fetched from its
 * origin and verified like a pushed one (federation/entities/version.ts), then
 * kept. Undefined when the IRI is not a clause IRI at all.
 */
export async function resolveClause(ctx: FedCtx, iri: string): Promise<Awaited<ReturnType<AnnotationLookup["clauseFromIri"]>>> {
  const held = await annotationLookup(ctx).clauseFromIri(iri);
  const match = CLAUSE_IRI.exec(iri);
  if (held || !match) return held;
  await fetchVerifiedVersion(ctx, match[1]!, null);
  return await annotationLookup(ctx).clauseFromIri(iri);
}

/** A Note fetched from its author's origin and checked, ready to be kept (persistAnnotation). */
export interface FetchedAnnotation {
  parsed: ParsedAnnotation;
  document: Record<string, unknown>;
  policy: Policy;
}

function refuseAnnotation(noteIri: string, expectedAuthor: string | null, reason: string): undefined {
  logger.info("Refused annotation {note} from {actor}: {reason}.", { note: noteIri, actor: expectedAuthor, reason });
  return undefined;
}

/**
 * Fetches a Note from its author's origin and stores it as an annotation,
 * after checking that the author is who sent or relayed it as expected and
 * that the clause exists in that version. Returns undefined when refused.
 */
export async function receiveAnnotation(
  ctx: FedCtx,
  noteIri: string,
  expectedAuthor: string | null,
): Promise<{ annotation: Annotation; created: boolean; policy: Policy } | undefined> {
  const fetched = await fetchAnnotation(ctx, noteIri, expectedAuthor);
  return fetched ? await persistAnnotation(ctx, fetched) : undefined;
}

/**
 * Turns a fetched annotation into its row: idempotent, keyed by the Note's
 * IRI (an edit replaces the row). Refused when the IRI is held for another
 * author. Synchronous, so a handler can run it in the transaction that
 * records what the annotation causes.
 */
export async function persistAnnotation(ctx: FedCtx, fetched: FetchedAnnotation): Promise<{ annotation: Annotation; created: boolean; policy: Policy } | undefined> {
  const { parsed, document, policy } = fetched;
  const stored = await storeAnnotation(ctx.data.db, parsed, document, false);
  if (!stored) return refuseAnnotation(parsed.noteId, parsed.author, `${parsed.noteId} is already held for another author`);
  return { ...stored, policy };
}

/** The checks of receiveAnnotation, without keeping anything (a gone Note we held is dropped). */
export async function fetchAnnotation(ctx: FedCtx, noteIri: string, expectedAuthor: string | null): Promise<FetchedAnnotation | undefined> {
  const refuse = (reason: string) => refuseAnnotation(noteIri, expectedAuthor, reason);
  if (expectedAuthor !== null && new URL(noteIri).origin !== new URL(expectedAuthor).origin) {
    return refuse(`it is not on the origin of ${expectedAuthor}, who sent it`);
  }
  let document: unknown;
  try {
    // Always fresh: an Update says the Note changed, and a cached copy would lose the edit.
    document = (await loadDocument(ctx, noteIri, { fresh: true })).document;
  } catch (error) {
    if (isGone(error)) {
      await dropGoneAnnotation(ctx, noteIri);
      return undefined;
    }
    throw error;
  }
  const parsed = await parseAnnotationNote(document, annotationLookup(ctx));
  if ("ignored" in parsed) {
    logger.debug("Ignored a Note {note}: {reason}", { note: noteIri, reason: parsed.ignored });
    return undefined;
  }
  if (parsed.noteId !== noteIri) return refuse(`it names itself ${parsed.noteId}`);
  if (expectedAuthor !== null && parsed.author !== expectedAuthor) return refuse(`it is by ${parsed.author}, not ${expectedAuthor}`);
  if (parsed.clauseId !== null && await clauseTextIn(ctx.data.db, parsed.versionIri, parsed.clauseId) === undefined) {
    return refuse(`version ${parsed.versionIri} has no clause "${parsed.clauseId}"`);
  }
  const policy = (await findPolicyByIri(ctx.data.db, parsed.policyIri))!;
  const community = policy.communityId;
  if (community !== null && await isBlocked(ctx.data.db, community, parsed.author)) return refuse(`${parsed.author} is blocked by the community`);
  return { parsed, document: document as Record<string, unknown>, policy };
}

/** Whether a fetch failed because the origin says the document is gone (404 or 410). */
function isGone(error: unknown): boolean {
  // The guarded fetch's HTTP errors carry the response (federation/fetch.ts).
  const status = (error as { response?: { status?: number } } | null)?.response?.status;
  return status === 404 || status === 410;
}

/** The source of an annotation we hold answers 404 or 410 on re-check: the annotation goes too. */
async function dropGoneAnnotation(ctx: FedCtx, noteIri: string): Promise<void> {
  const held = await findAnnotation(ctx.data.db, noteIri);
  // Only a Note on its author's own origin can be gone from under us.
  if (!held || held.local || new URL(held.authorIri).origin !== new URL(noteIri).origin) return;
  await deleteAnnotation(ctx.data.db, noteIri, held.authorIri);
  logger.info("Removed annotation {note}: its source is gone.", { note: noteIri });
}

/**
 * Mirrors: a re-share from the community that owns the annotated policy
 * (anyone else's is ignored). `then` runs in the transaction that keeps a
 * new one, for what it causes.
 */
export async function receiveReshare(ctx: FedCtx, noteIri: string, announcer: string, then?: (annotation: Annotation) => Promise<unknown> | void): Promise<void> {
  const known = await findAnnotation(ctx.data.db, noteIri);
  if (known) return;
  const fetched = await fetchAnnotation(ctx, noteIri, null);
  if (!fetched) return;
  if (fetched.policy.ownerIri !== announcer) {
    logger.info("Ignored a re-share of {note} by {actor}, who does not own {policy}.", { note: noteIri, actor: announcer, policy: fetched.policy.iri });
    return;
  }
  await ctx.data.db.transaction(async () => {
    const received = await persistAnnotation(ctx, fetched);
    // Database work only (it runs in the transaction): a notification, say.
    if (received?.created) await then?.(received.annotation);
  });
}

/**
 * An annotation's Note as the standard ActivityStreams object that travels
 * in activities (receivers fetch the full one, with our terms, from its IRI).
 */
export function toAnnotation(note: Record<string, unknown>): Note {
  const list = (value: unknown) => (Array.isArray(value) ? value : value ? [value] : []).map((iri) => new URL(String(iri)));
  return new Note({
    id: new URL(String(note.id)),
    attribution: new URL(String(note.attributedTo)),
    replyTarget: new URL(String(note.inReplyTo)),
    content: typeof note.content === "string" ? note.content : null,
    published: Temporal.Instant.from(String(note.published)),
    tos: list(note.to),
    ccs: list(note.cc),
  });
}


export type { ParsedAnnotation };
