/**
 * Request and response schemas of the policy routes (src/api/policy-routes.ts).
 * The CLI and tests use their inferred types (`z.output<typeof PolicyDetail>`).
 * Request schemas are the use cases' own (src/app/policy-inputs.ts).
 */
import { z } from "@hono/zod-openapi";
import { AUTHORITY_LEVELS, clauseSchema, contextOfUseSchema, exampleSchema, noteSchema, policyContentSchema, sectionSchema } from "../../policies/content.ts";
import { CLAUSE_FIELDS, SECTION_FIELDS } from "../../policies/diff.ts";
import { IMPORT_FORMATS } from "../../app/policy-inputs.ts";
import { IdParam } from "../schemas.ts";

export { ImportRequest, NewPolicy, PublishRequest } from "../../app/policy-inputs.ts";

export const PolicyView = z
  .object({
    id: z.number().int(),
    iri: z.string().url(),
    community: z.string().url().openapi({ description: "The owning community's actor IRI" }),
    local: z.boolean(),
    slug: z.string(),
    title: z.string(),
    summary: z.string(),
    licence: z.string(),
    headVersion: z.number().int().nullable(),
    draftUpdatedAt: z.string().datetime().nullable(),
    forkedFrom: z.object({ id: z.string(), contentHash: z.string() }).nullable(),
    upstream: z.string().nullable(),
  })
  .openapi("Policy");

export const VersionView = z
  .object({
    iri: z.string().url(),
    number: z.number().int(),
    contentHash: z.string(),
    changelog: z.string(),
    publishedAt: z.string().datetime(),
    receivedAt: z.string().datetime(),
    retracted: z.boolean(),
  })
  .openapi("PolicyVersion");

export const PolicyDetail = PolicyView.extend({ versions: z.array(VersionView) }).openapi("PolicyDetail");
export const PolicyLookup = PolicyDetail.extend({ version: z.number().int().nullable() }).openapi("PolicyLookup");
export const VersionDetail = VersionView.extend({
  policy: PolicyView,
  content: policyContentSchema,
  document: z.record(z.string(), z.unknown()).openapi({ description: "The signed version document (JSON-LD with its proof)" }),
}).openapi("PolicyVersionDetail");

export const ImportReportView = z
  .object({
    format: z.enum(IMPORT_FORMATS),
    kept: z.object({
      sections: z.number().int(),
      clauses: z.number().int(),
      examples: z.number().int(),
      pairedExamples: z.number().int(),
      oneSidedExamples: z.number().int(),
      scenarios: z.number().int(),
      responses: z.number().int(),
      clausesByAuthority: z.record(z.enum(AUTHORITY_LEVELS), z.number().int()),
    }),
    notMapped: z.array(z.object({ what: z.string(), where: z.string(), reason: z.string() })),
    notes: z.array(z.string()),
  })
  .openapi("ImportReport");
export const ImportResult = z.object({ policy: PolicyDetail, report: ImportReportView }).openapi("PolicyImportResult");

const change = <T extends z.ZodType>(value: T) => z.object({ before: value, after: value });
const WordDiffPart = z.object({ kind: z.enum(["same", "added", "removed"]), value: z.string() });
const Move = z.object({ id: z.string(), fromIndex: z.number().int(), toIndex: z.number().int() });
const PlacedClause = z.object({ id: z.string(), index: z.number().int(), clause: clauseSchema });
const PlacedSection = z.object({ id: z.string(), index: z.number().int(), section: sectionSchema });

export const ClauseEditView = Move.extend({
  changes: z.array(z.enum(CLAUSE_FIELDS)),
  text: z.array(WordDiffPart).optional(),
  rationale: z.array(WordDiffPart).optional(),
  commentary: z.array(WordDiffPart).optional(),
  fields: z.object({
    title: change(z.string()).optional(),
    section: change(z.string().nullable()).optional(),
    authority: change(z.enum(AUTHORITY_LEVELS)).optional(),
    context: change(contextOfUseSchema).optional(),
    examples: change(z.array(exampleSchema)).optional(),
    tags: change(z.array(z.string())).optional(),
    notes: z.object({ before: z.array(noteSchema).optional(), after: z.array(noteSchema).optional() }).optional(),
    principle: z.object({ before: z.string().optional(), after: z.string().optional() }).optional(),
  }),
});

export const DiffBody = z.object({
  metadata: z.object({
    title: change(z.string()).optional(),
    summary: change(z.string()).optional(),
    licence: change(z.string()).optional(),
    contexts: change(z.array(contextOfUseSchema)).optional(),
  }),
  sections: z.object({
    added: z.array(PlacedSection),
    removed: z.array(PlacedSection),
    moved: z.array(Move),
    changed: z.array(Move.extend({ changes: z.array(z.enum(SECTION_FIELDS)), before: sectionSchema, after: sectionSchema })),
  }),
  clauses: z.object({
    added: z.array(PlacedClause),
    removed: z.array(PlacedClause),
    moved: z.array(Move),
    edited: z.array(ClauseEditView),
    unchanged: z.number().int(),
  }),
  summary: z.object({ added: z.number().int(), removed: z.number().int(), moved: z.number().int(), edited: z.number().int() }),
});

export const DiffView = DiffBody.extend({ from: z.string(), to: z.string() }).openapi("PolicyDiff");

export const PolicyListQuery = z.object({ community: z.string().optional(), mirrored: z.enum(["true", "false"]).optional() });
export const LookupQuery = z.object({ ref: z.string().min(1) });
export const VersionParam = IdParam.extend({
  number: z.coerce.number().int().positive().openapi({ param: { name: "number", in: "path" } }),
});
export const ClauseParam = IdParam.extend({ clauseId: z.string().min(1).openapi({ param: { name: "clauseId", in: "path" } }) });
export const ClausePosition = z.object({ position: z.coerce.number().int().min(0).optional() });
const versionOrDraft = z.string().regex(/^(\d+|draft)$/, "must be a version number or 'draft'");
export const DiffQuery = z.object({ from: versionOrDraft, to: versionOrDraft });

export type PolicyViewOutput = z.output<typeof PolicyView>;
export type PolicyDetailOutput = z.output<typeof PolicyDetail>;
export type VersionViewOutput = z.output<typeof VersionView>;
