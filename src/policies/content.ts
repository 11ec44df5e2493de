/**
 * The normative content of a policy: what a community actually adopts, and
 * what the content hash covers (src/policies/hash.ts). A draft and every
 * published version hold one of these. Everything else (version number,
 * changelog, dates, proof) is metadata around it.
 *
 * This schema is the documented "Fedalign policy JSON" format: importers
 * produce it, the API accepts it, and `policyJsonSchema()` publishes it as
 * JSON Schema.
 */
import { z } from "../zod.ts";

/** The Model Spec's ladder, highest first. Order matters: composition sorts by it. */
export const AUTHORITY_LEVELS = ["root", "system", "developer", "user", "guideline"] as const;
export type AuthorityLevel = (typeof AUTHORITY_LEVELS)[number];

/** The levels as the Model Spec names them; every page, bundle and message spells them so. */
export const AUTHORITY_NAMES: Record<AuthorityLevel, string> = {
  root: "Root",
  system: "System",
  developer: "Developer",
  user: "User",
  guideline: "Guideline",
};

export const ROLES = ["system", "developer", "user", "assistant", "tool"] as const;

const idPattern = /^[A-Za-z0-9][A-Za-z0-9_.:-]*$/;

export const clauseIdSchema = z
  .string()
  .min(1, "must not be empty")
  .max(120, "must be at most 120 characters")
  .regex(idPattern, "may contain letters, digits and _ . : - and must start with a letter or digit");

/** A BCP 47 language tag, canonicalised ("sw", "pt-BR"). */
export const localeSchema = z.string().transform((value, ctx) => {
  try {
    const [canonical] = Intl.getCanonicalLocales(value);
    if (canonical) return canonical;
  } catch {
    // fall through to the issue below
  }
  ctx.addIssue({ code: "custom", message: `"${value}" is not a BCP 47 language tag (such as "en", "sw" or "pt-BR")` });
  return z.NEVER;
});

const facetValues = z.array(z.string().trim().min(1, "must not be empty").max(100)).min(1, "must list at least one value");

/**
 * Where a clause (or a whole policy) applies. Each facet lists the values it
 * applies to; a missing facet means "any".
 */
export const contextOfUseSchema = z
  .object({
    domain: facetValues.optional(),
    audience: facetValues.optional(),
    locale: z.array(localeSchema).min(1, "must list at least one value").optional(),
    deployment: facetValues.optional(),
  })
  .strict()
  .openapi("ContextOfUse");
export type ContextOfUse = z.infer<typeof contextOfUseSchema>;

export const messageSchema = z
  .object({
    role: z.enum(ROLES),
    content: z.string(),
  })
  .strict();

/**
 * An example: a prompt (a conversation) and candidate responses marked good
 * or bad, optionally with a note on each and an overall explanation. A pair
 * for preference data is any good response against any bad one. An example
 * without responses is a scenario: a prompt the clause speaks to, waiting for
 * responses (constitutions ship such scenarios; comparison tasks start there).
 */
export const exampleSchema = z
  .object({
    title: z.string().max(500).optional(),
    prompt: z.array(messageSchema).min(1, "needs at least one message"),
    responses: z
      .array(
        z
          .object({
            content: z.string(),
            label: z.enum(["good", "bad"]),
            note: z.string().optional(),
          })
          .strict(),
      )
      .default([]),
    why: z.string().optional(),
  })
  .strict()
  .openapi("ClauseExample");
export type Example = z.infer<typeof exampleSchema>;

/** A footnote of a clause or section: its label in the source and its text. */
export const noteSchema = z
  .object({
    id: z.string().min(1).max(100),
    text: z.string().trim().min(1).max(10_000),
  })
  .strict()
  .openapi("ClauseNote");
export type Note = z.infer<typeof noteSchema>;

export const sectionSchema = z
  .object({
    id: clauseIdSchema,
    title: z.string().trim().min(1, "must not be empty").max(500),
    /** The enclosing section, for nesting; null at the top. */
    parent: clauseIdSchema.nullable(),
    /** Prose of the section that is not itself a clause (Markdown). */
    text: z.string().default(""),
    /** As a clause's (optional, so older content keeps its hash). */
    notes: z.array(noteSchema).optional(),
    commentary: z.string().max(50_000).optional(),
  })
  .strict()
  .openapi("PolicySection");
export type Section = z.infer<typeof sectionSchema>;

export const clauseSchema = z
  .object({
    /** Stable across versions; annotations and merges refer to it. */
    id: clauseIdSchema,
    title: z.string().max(500).default(""),
    /** The section the clause sits in; null at the top level. */
    section: clauseIdSchema.nullable().default(null),
    authority: z.enum(AUTHORITY_LEVELS, {
      error: (issue) =>
        `unknown authority level ${JSON.stringify(issue.input)}; use one of ${AUTHORITY_LEVELS.join(", ")}`,
    }),
    /** The normative text (Markdown). */
    text: z.string().trim().min(1, "must not be empty"),
    rationale: z.string().default(""),
    context: contextOfUseSchema.default({}),
    examples: z.array(exampleSchema).default([]),
    tags: z.array(z.string().trim().min(1).max(50)).default([]),
    /**
     * Optional fields added after the first release. They have no default, so
     * content written before them parses to the same object and keeps its
     * content hash; they are covered by the hash when present.
     */
    notes: z.array(noteSchema).optional(),
    /**
     * Commentary for readers (the Model Spec's `!!! meta "Commentary"` boxes):
     * shown wherever the clause is read, never put in a system prompt,
     * principle or training record. Not normative, but adopted and signed with
     * the rest of the content, so a reader can trust it came from the community.
     */
    commentary: z.string().max(50_000).optional(),
    /** A short Constitutional-AI principle, written by a steward; derived from title and first sentence when absent. */
    principle: z.string().trim().min(1).max(1_000).optional(),
  })
  .strict()
  .openapi("Clause");
export type Clause = z.infer<typeof clauseSchema>;

/** SPDX licence identifier or expression, e.g. "CC-BY-4.0", "MIT OR Apache-2.0". */
export const licenceSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .regex(/^[A-Za-z0-9.+()-]+( (AND|OR|WITH) [A-Za-z0-9.+()-]+)*$/, "must be an SPDX licence identifier such as CC-BY-4.0");

export const policyContentSchema = z
  .object({
    title: z.string().trim().min(1, "must not be empty").max(300),
    summary: z.string().default(""),
    licence: licenceSchema,
    /** Contexts of use the policy as a whole is written for. */
    contexts: z.array(contextOfUseSchema).default([]),
    sections: z.array(sectionSchema).default([]),
    clauses: z.array(clauseSchema).default([]),
  })
  .strict()
  .superRefine((content, ctx) => {
    const sectionIds = new Set<string>();
    content.sections.forEach((section, i) => {
      if (sectionIds.has(section.id)) {
        ctx.addIssue({ code: "custom", path: ["sections", i, "id"], message: `duplicate section id "${section.id}"` });
      }
      sectionIds.add(section.id);
    });
    content.sections.forEach((section, i) => {
      if (section.parent !== null && !sectionIds.has(section.parent)) {
        ctx.addIssue({ code: "custom", path: ["sections", i, "parent"], message: `unknown section "${section.parent}"` });
      }
    });
    const clauseIds = new Set<string>();
    content.clauses.forEach((clause, i) => {
      if (clauseIds.has(clause.id)) {
        ctx.addIssue({ code: "custom", path: ["clauses", i, "id"], message: `duplicate clause id "${clause.id}"` });
      }
      clauseIds.add(clause.id);
      if (clause.section !== null && !sectionIds.has(clause.section)) {
        ctx.addIssue({ code: "custom", path: ["clauses", i, "section"], message: `unknown section "${clause.section}"` });
      }
    });
  })
  .openapi("PolicyContent");

export type PolicyContent = z.output<typeof policyContentSchema>;
export type PolicyContentInput = z.input<typeof policyContentSchema>;

/** Validates content from outside; the error lists every problem with its path. */
export function parsePolicyContent(input: unknown): { ok: true; content: PolicyContent } | { ok: false; issues: { path: string; message: string }[] } {
  const result = policyContentSchema.safeParse(input);
  if (result.success) return { ok: true, content: result.data };
  return {
    ok: false,
    issues: result.error.issues.map((issue) => ({ path: issue.path.map(String).join("."), message: issue.message })),
  };
}

/** The JSON Schema of the Fedalign policy JSON format (draft 2020-12), generated from zod. */
export function policyJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(policyContentSchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
}
