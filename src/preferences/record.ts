/**
 * A preference record: one judgement between candidate responses to a
 * prompt, with the consent terms its rater chose. This is the normal form
 * that importers produce, the database stores, and exporters read.
 */
import { z } from "../zod.ts";
import { messageSchema } from "../policies/content.ts";

export const CONSENT_TERMS = ["train", "federate", "breakdown"] as const;
export type ConsentTerm = (typeof CONSENT_TERMS)[number];

/**
 * What the rater allows: use to train models, copy to other instances,
 * show broken down by their self-declared groups. Consent can only be
 * narrowed afterwards, never silently widened.
 */
export const consentSchema = z
  .object({ train: z.boolean(), federate: z.boolean(), breakdown: z.boolean() })
  .strict()
  .openapi("Consent");
export type Consent = z.infer<typeof consentSchema>;

export const NO_CONSENT: Consent = { train: false, federate: false, breakdown: false };

export const ratingsSchema = z
  .object({
    scale: z.object({ min: z.number(), max: z.number() }).refine((s) => s.max > s.min, "max must be above min"),
    /** One rating per response, in order. */
    values: z.array(z.number()),
  })
  .strict();

export const sourceSchema = z
  .object({
    /** Where the record came from: "hh-rlhf:harmless-base-test.jsonl.gz", "trl", "task:…". */
    name: z.string().min(1).max(500),
    /** SPDX id of the source's licence, when known. */
    licence: z.string().max(100).nullable(),
    /** Line (1-based) in the imported file. */
    line: z.number().int().positive().optional(),
  })
  .strict();

export const preferenceRecordSchema = z
  .object({
    prompt: z.array(messageSchema).min(1, "needs at least one message"),
    responses: z
      .array(z.object({ content: z.string() }).strict())
      .min(2, "needs at least two responses to compare"),
    /** Index of the preferred response (pairwise choice); null when rated instead. */
    choice: z.number().int().min(0).nullable().default(null),
    ratings: ratingsSchema.nullable().default(null),
    rationale: z.string().max(10_000).default(""),
    clauseIds: z.array(z.string()).default([]),
    policyVersion: z.string().url().nullable().default(null),
    /** Pseudonymous: never a username, email or actor IRI. */
    raterId: z.string().min(1).max(200),
    groups: z.array(z.string().trim().min(1).max(100)).default([]),
    createdAt: z.string().datetime({ offset: true }),
    consent: consentSchema,
    source: sourceSchema.nullable().default(null),
  })
  .strict()
  .superRefine((record, ctx) => {
    if ((record.choice === null) === (record.ratings === null)) {
      ctx.addIssue({ code: "custom", path: ["choice"], message: "give either a choice or ratings, not both and not neither" });
    }
    if (record.choice !== null && record.choice >= record.responses.length) {
      ctx.addIssue({ code: "custom", path: ["choice"], message: `must be the index of one of the ${record.responses.length} responses` });
    }
    if (record.ratings && record.ratings.values.length !== record.responses.length) {
      ctx.addIssue({ code: "custom", path: ["ratings", "values"], message: "needs one rating per response" });
    }
    if (record.ratings?.values.some((v) => v < record.ratings!.scale.min || v > record.ratings!.scale.max)) {
      ctx.addIssue({ code: "custom", path: ["ratings", "values"], message: "ratings must lie on the stated scale" });
    }
  })
  .openapi("PreferenceRecord");

export type PreferenceRecord = z.output<typeof preferenceRecordSchema>;
export type PreferenceRecordInput = z.input<typeof preferenceRecordSchema>;

/** Licences whose terms let imported records be used for training and shared on. */
const OPEN_LICENCES = new Set(["CC0-1.0", "MIT", "CC-BY-4.0", "CC-BY-3.0", "Apache-2.0", "CC-BY-SA-4.0", "ODC-By-1.0", "PDDL-1.0"]);

/**
 * Consent for imported records when none was given: an open licence allows
 * training and federation (not a group breakdown: imported data carries no
 * rater's word on that); an unknown licence allows nothing.
 */
export function consentFromLicence(licence: string | null): { consent: Consent; reason: string } {
  if (licence && OPEN_LICENCES.has(licence)) {
    return { consent: { train: true, federate: true, breakdown: false }, reason: `${licence} is an open licence: train and federate` };
  }
  return { consent: NO_CONSENT, reason: licence ? `${licence} is not a licence known to allow reuse: no consent` : "no licence given: no consent" };
}

/** "--consent train,federate" -> consent terms; throws on unknown terms. */
export function parseConsent(list: string): Consent {
  const terms = list.split(",").map((t) => t.trim()).filter(Boolean);
  const unknown = terms.filter((t) => !(CONSENT_TERMS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new Error(`unknown consent term${unknown.length > 1 ? "s" : ""} ${unknown.join(", ")}; use any of ${CONSENT_TERMS.join(", ")}`);
  return { train: terms.includes("train"), federate: terms.includes("federate"), breakdown: terms.includes("breakdown") };
}

/** Narrowing keeps only what both allow: consent can be withdrawn, never widened by a narrowing. */
export function narrowConsent(current: Consent, requested: Consent): Consent {
  return { train: current.train && requested.train, federate: current.federate && requested.federate, breakdown: current.breakdown && requested.breakdown };
}
