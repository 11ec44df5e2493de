/** Request and response schemas of the fork routes (src/api/fork-routes.ts). */
import { z } from "@hono/zod-openapi";
import { clauseSchema, contextOfUseSchema, policyContentSchema, sectionSchema } from "../../policies/content.ts";
import { CLAUSE_FIELDS, METADATA_FIELDS, SECTION_FIELDS } from "../../policies/diff.ts";
import { Problem } from "../schemas.ts";
import { DiffBody } from "./policies.ts";

export { ForkRequest, MergeRequest } from "../../app/policy-inputs.ts";

export const ForkView = z
  .object({
    id: z.number().int(),
    iri: z.string().url(),
    forkedFrom: z.object({ id: z.string().nullable(), contentHash: z.string().nullable() }),
    upstream: z.string().nullable(),
  })
  .openapi("Fork");

const conflictKind = z.enum(["edit/edit", "edit/remove", "remove/edit", "add/add"]);
const metadataValue = z.union([z.string(), z.array(contextOfUseSchema)]);

export const ConflictView = z
  .discriminatedUnion("target", [
    z.object({
      target: z.literal("clause"),
      key: z.string(),
      clauseId: z.string(),
      kind: conflictKind,
      base: clauseSchema.optional(),
      ours: clauseSchema.optional(),
      theirs: clauseSchema.optional(),
      fields: z.array(z.enum(CLAUSE_FIELDS)),
    }),
    z.object({
      target: z.literal("section"),
      key: z.string(),
      sectionId: z.string(),
      kind: z.union([conflictKind, z.literal("removed-in-use")]),
      base: sectionSchema.optional(),
      ours: sectionSchema.optional(),
      theirs: sectionSchema.optional(),
      fields: z.array(z.enum(SECTION_FIELDS)),
      usedBy: z.array(z.string()).optional(),
    }),
    z.object({
      target: z.literal("metadata"),
      key: z.string(),
      kind: z.literal("metadata"),
      field: z.enum(METADATA_FIELDS),
      base: metadataValue,
      ours: metadataValue,
      theirs: metadataValue,
      fields: z.array(z.enum(METADATA_FIELDS)),
    }),
  ])
  .openapi("MergeConflict");

const cleanChanges = <T extends z.ZodType>(id: T) => z.object({ fromTheirs: z.array(id), fromOurs: z.array(id), both: z.array(id) });
export const CleanView = cleanChanges(z.string()).extend({ sections: cleanChanges(z.string()), metadata: cleanChanges(z.enum(METADATA_FIELDS)) });
const orderReport = z.object({ applied: z.array(z.string()), keptOurs: z.array(z.string()) });

export const MergeResultView = z
  .object({
    merged: policyContentSchema,
    conflicts: z.array(ConflictView),
    clean: CleanView,
    order: z.object({ clauses: orderReport, sections: orderReport }),
    summary: z.object({
      clauses: z.number().int(),
      unchanged: z.number().int(),
      fromOurs: z.number().int(),
      fromTheirs: z.number().int(),
      both: z.number().int(),
      conflicts: z.number().int(),
      clauseConflicts: z.number().int(),
      sectionConflicts: z.number().int(),
      metadataConflicts: z.number().int(),
      movesApplied: z.number().int(),
      movesKeptOurs: z.number().int(),
    }),
    theirsOrder: z.object({ clauses: z.array(z.string()), sections: z.array(z.string()) }),
  })
  .openapi("MergeResult");

const versionRef = z.object({ iri: z.string(), number: z.number().int() });
export const UpstreamStatusView = z
  .object({
    upstream: z.string(),
    base: versionRef,
    head: versionRef.nullable(),
    upToDate: z.boolean(),
    pendingMerge: z.string().nullable(),
    changes: DiffBody.nullable(),
    merge: MergeResultView.nullable(),
  })
  .openapi("UpstreamStatus");

export const MergeOutcome = z
  .object({ pendingMerge: z.string().nullable(), clean: CleanView, resolved: z.array(z.string()) })
  .openapi("MergeOutcome");

export const AnnouncedFork = z
  .object({ iri: z.string(), community: z.string(), forkedFrom: z.string(), receivedAt: z.string().datetime() })
  .openapi("AnnouncedFork");

/** The 409 of a merge that needs decisions: a problem with the conflicts to resolve. */
export const MergeConflictProblem = Problem.extend({ conflicts: z.array(ConflictView), clean: CleanView }).openapi("MergeConflictProblem");
