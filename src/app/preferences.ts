/**
 * Use cases of preference data: a steward imports records (streamed, in
 * training formats or from a policy's examples), anyone exports what raters
 * allowed, a rater narrows or withdraws the consent of their judgement.
 * Comparison tasks and their results are in ./preference-tasks.ts.
 *
 * Federation: a change to a policy's federated dataset records a
 * `preferences.dataset-changed` effect (mirrors sync again), a withdrawal of
 * federation consent a `preferences.record-withdrawn` one (mirrors drop the
 * record), each in the transaction of the change.
 */
import type { Readable } from "node:stream";
import { eq } from "drizzle-orm";
import { communities, mirroredPreferences, preferenceRecords, preferenceTasks } from "../../db/schema.ts";
import { findCommunityById, getCommunity, type Community } from "../communities.ts";
import { InvalidInputError } from "../errors.ts";
import { findVersionByIri, getPolicyById, versionContent, type Policy } from "../policies/policies.ts";
import { PREFERENCE_FORMATS, parsePreferenceLines, recordsFromPolicyExamples, toOpenAiLines, toTrlLines } from "../preferences/formats.ts";
import { consentFromLicence, parseConsent, type Consent } from "../preferences/record.ts";
import { findRecord, importRecords, narrowRecordConsent, trainableRecords, type ImportReport } from "../preferences/store.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import type { Effect } from "./effects.ts";
import { recordEffect } from "./outbox.ts";
import { assertSteward, isMember, requireSignedIn, type Viewer } from "./permissions.ts";

// ---------------------------------------------------------------------------
// Inputs (the API validates requests with these)
// ---------------------------------------------------------------------------

export const ImportQuery = z.object({
  community: z.string(),
  format: z.enum([...PREFERENCE_FORMATS, "policy-examples"]),
  policy: z.coerce.number().int().positive().optional(),
  licence: z.string().max(100).optional(),
  consent: z.string().optional().openapi({ description: "Any of train,federate,breakdown; without it, what the licence allows" }),
  onError: z.enum(["skip", "stop"]).default("skip"),
  source: z.string().max(200).optional().openapi({ description: "Source name recorded on each record (e.g. the file name)" }),
});
export type ImportQueryInput = z.output<typeof ImportQuery>;

export const ImportExamplesInput = z.object({ community: z.string(), version: z.string().url(), consent: z.string().optional() }).strict();

export const ExportQuery = z.object({ policy: z.coerce.number().int().positive(), format: z.enum(["trl", "openai"]) });

// ---------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------

export interface ImportResult extends ImportReport {
  consent: Consent;
  consentNote?: string;
  source?: string;
}

/** A member's answer as shown back to them: what they chose, why, and what they allowed. */
export interface AnswerFields {
  choice: number | null;
  ratings: { scale: { min: number; max: number }; values: number[] } | null;
  rationale: string;
  groups: string[];
  consent: Consent;
  updatedAt: string;
}

export interface MyRecord extends AnswerFields {
  id: number;
  task: number | null;
  taskTitle: string | null;
  community: string;
}

// ---------------------------------------------------------------------------
// Helpers shared with ./preference-tasks.ts
// ---------------------------------------------------------------------------

/** The community a steward acts in; signed-out callers hear that first. */
export async function stewardOf(ctx: AppContext, viewer: Viewer, handle: string): Promise<Community> {
  requireSignedIn(viewer);
  const community = await getCommunity(ctx.db, handle);
  await assertSteward(ctx.db, community, viewer);
  return community;
}

/** The effect telling a policy's followers that its federated dataset changed. */
export function datasetChanged(policy: Pick<Policy, "iri">): Effect {
  return { kind: "preferences.dataset-changed", policyIri: policy.iri };
}

// ---------------------------------------------------------------------------
// Import
// ---------------------------------------------------------------------------

/**
 * Streams a file of preference data into a community (stewards). Lines are
 * staged in batches outside any transaction (they are scratch rows, dropped
 * if the import stops or dies) and moved into place in one final
 * transaction; the dataset-changed effect is recorded in that transaction,
 * so mirrors hear of the records exactly when they exist.
 */
export async function importPreferences(ctx: AppContext, viewer: Viewer, query: ImportQueryInput, body: Readable | null): Promise<ImportResult> {
  const community = await stewardOf(ctx, viewer, query.community);
  const policy = query.policy ? await getPolicyById(ctx.db, query.policy) : undefined;
  if (policy && policy.communityId !== community.id && policy.communityId !== null) {
    throw new InvalidInputError(`Policy ${policy.id} belongs to another community.`);
  }
  const licence = query.licence ?? null;
  let consent: Consent;
  let consentNote: string;
  try {
    consent = query.consent !== undefined ? parseConsent(query.consent) : consentFromLicence(licence).consent;
    consentNote = query.consent !== undefined ? `consent given on import: ${query.consent || "none"}` : consentFromLicence(licence).reason;
  } catch (error) {
    throw new InvalidInputError(`consent: ${(error as Error).message}.`);
  }
  if (query.format === "policy-examples") throw new InvalidInputError("Import a policy's examples with POST /preferences/import-examples.");
  if (!body) throw new InvalidInputError("Send the file as the request body.");
  const source = `${query.format}:${query.source ?? "upload"}`;
  const now = ctx.clock.now();
  const lines = parsePreferenceLines(body, query.format, { source: { name: source, licence }, consent, createdAt: now.toISOString() });
  const report = await importRecords(ctx.db, lines, {
    communityId: community.id,
    policyId: policy?.id ?? null,
    onError: query.onError,
    now,
    inFinalTransaction: async (imported) => {
      if (policy && imported > 0 && consent.federate) await recordEffect(ctx.db, datasetChanged(policy), now);
    },
  });
  return { ...report, consent, consentNote, source };
}

/** Turns a policy version's GOOD/BAD examples into preference records (stewards). */
export async function importPolicyExamples(ctx: AppContext, viewer: Viewer, input: z.output<typeof ImportExamplesInput>): Promise<ImportResult> {
  const community = await stewardOf(ctx, viewer, input.community);
  const version = await findVersionByIri(ctx.db, input.version);
  if (!version) throw new InvalidInputError(`${input.version} is not a version held here.`);
  const content = versionContent(version);
  let consent: Consent;
  try {
    consent = input.consent !== undefined ? parseConsent(input.consent) : consentFromLicence(content.licence).consent;
  } catch (error) {
    throw new InvalidInputError(`consent: ${(error as Error).message}.`);
  }
  const records = recordsFromPolicyExamples(content, version.iri, { createdAt: version.publishedAt.toISOString(), consent });
  async function* asLines() {
    for (const record of records) yield { ok: true as const, record };
  }
  const now = ctx.clock.now();
  const policy = await getPolicyById(ctx.db, version.policyId);
  const report = await importRecords(ctx.db, asLines(), {
    communityId: community.id,
    policyId: version.policyId,
    onError: "stop",
    now,
    inFinalTransaction: async (imported) => {
      if (imported > 0 && consent.federate) await recordEffect(ctx.db, datasetChanged(policy), now);
    },
  });
  return { ...report, consent };
}

// ---------------------------------------------------------------------------
// Export and reads
// ---------------------------------------------------------------------------

/**
 * The records of a policy whose raters allowed training, as TRL or OpenAI
 * JSONL, in chunks of about 64 KiB, read lazily. Members of the policy's
 * community get every such record; anyone else only those that may also
 * leave the instance.
 */
export async function exportPreferences(ctx: AppContext, viewer: Viewer, query: z.output<typeof ExportQuery>): Promise<AsyncGenerator<string>> {
  const policy = await getPolicyById(ctx.db, query.policy);
  const member = await isMember(ctx.db, policy.communityId === null ? undefined : await findCommunityById(ctx.db, policy.communityId), viewer);
  const write = query.format === "trl" ? toTrlLines : toOpenAiLines;
  return (async function* () {
    let chunk = "";
    for await (const record of trainableRecords(ctx.db, { policyId: policy.id })) {
      if (!member && !record.consent.federate) continue;
      chunk += write(record).join("");
      if (chunk.length > 64 * 1024) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  })();
}

/** The viewer's own judgements (answers to tasks), with their consent. */
export async function myPreferences(ctx: AppContext, viewer: Viewer): Promise<MyRecord[]> {
  const user = requireSignedIn(viewer);
  const rows = await ctx.db
    .select({ row: preferenceRecords, taskTitle: preferenceTasks.title, community: communities.handle })
    .from(preferenceRecords)
    .leftJoin(preferenceTasks, eq(preferenceTasks.id, preferenceRecords.taskId))
    .innerJoin(communities, eq(communities.id, preferenceRecords.communityId))
    .where(eq(preferenceRecords.userId, user.id))
    .orderBy(preferenceRecords.id);
  return rows.map(({ row, taskTitle, community }) => {
    const record = row.record as { choice?: number | null; ratings?: MyRecord["ratings"]; rationale?: string; groups?: string[] };
    return {
      id: row.id,
      task: row.taskId,
      taskTitle,
      community,
      choice: record.choice ?? null,
      ratings: record.ratings ?? null,
      rationale: record.rationale ?? "",
      groups: record.groups ?? [],
      consent: { train: row.consentTrain, federate: row.consentFederate, breakdown: row.consentBreakdown },
      updatedAt: row.updatedAt.toISOString(),
    };
  });
}

/** Records this instance mirrors of another instance's policy. */
export async function mirroredPreferenceRecords(ctx: AppContext, policyIri: string) {
  const rows = await ctx.db.select().from(mirroredPreferences).where(eq(mirroredPreferences.policyIri, policyIri));
  return {
    policy: policyIri,
    count: rows.length,
    records: rows.map((row) => ({ iri: row.iri, consent: ((row.record as { consent?: Consent }).consent ?? null) as Consent | null, receivedAt: row.receivedAt.toISOString() })),
  };
}

// ---------------------------------------------------------------------------
// Consent
// ---------------------------------------------------------------------------

/**
 * The rater narrows the consent of their judgement (it can be withdrawn,
 * never widened). When the record was federated, mirrors hear of it in the
 * same transaction: a withdrawal of federation as a Delete of the record
 * (`sendRecordWithdrawn`), any other narrowing as a changed dataset.
 */
export async function changeRecordConsent(ctx: AppContext, viewer: Viewer, id: number, requested: Consent): Promise<{ id: number; consent: Consent }> {
  const user = requireSignedIn(viewer);
  const now = ctx.clock.now();
  return await ctx.db.transaction(async () => {
    const wasFederated = (await findRecord(ctx.db, id)).consentFederate;
    const row = await narrowRecordConsent(ctx.db, id, user.id, requested, now);
    if (row.policyId !== null && wasFederated) {
      const policy = await getPolicyById(ctx.db, row.policyId);
      const effect: Effect = row.consentFederate ? datasetChanged(policy) : { kind: "preferences.record-withdrawn", policyIri: policy.iri, recordId: row.id };
      await recordEffect(ctx.db, effect, now);
    }
    return { id: row.id, consent: { train: row.consentTrain, federate: row.consentFederate, breakdown: row.consentBreakdown } };
  });
}
