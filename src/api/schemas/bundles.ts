/**
 * The JSON contract of bundles an instance exports: the query (next to its
 * use cases in src/app/bundles.ts) and the preview of the effective policy.
 */
import { z } from "@hono/zod-openapi";
import { CONFLICT_KINDS } from "../../bundles/compose.ts";
import { AUTHORITY_LEVELS, clauseSchema } from "../../policies/content.ts";

export { BundleQuery } from "../../app/bundles.ts";

const Provenance = z.object({ sourceId: z.string(), versionIri: z.string(), contentHash: z.string(), community: z.string(), instance: z.string(), clauseId: z.string() });
const Objection = z.object({ sourceId: z.string(), text: z.string(), author: z.string() });
const Target = z.object({ domain: z.string().optional(), audience: z.string().optional(), locale: z.string().optional(), deployment: z.string().optional() });

const Conflict = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("same-id-different-text"),
    clauseId: z.string(),
    variants: z.array(z.object({ provenance: z.array(Provenance) })),
    differs: z.array(z.enum(["authority", "text", "context"])),
  }),
  z.object({
    kind: z.literal("declared"),
    clauseId: z.string(),
    provenance: z.array(Provenance),
    withClauseId: z.string(),
    withProvenance: z.array(Provenance),
    mutual: z.boolean(),
  }),
  z.object({ kind: z.literal("objection"), clauseId: z.string(), provenance: z.array(Provenance), objection: Objection }),
]);

const countsBy = <T extends readonly [string, ...string[]]>(keys: T) => z.record(z.enum(keys), z.number().int());

export const BundlePreview = z
  .object({
    target: Target,
    sources: z.array(
      z.object({ id: z.string(), versionIri: z.string(), contentHash: z.string(), community: z.string(), instance: z.string(), title: z.string(), licence: z.string(), included: z.number().int() }),
    ),
    clauses: z.array(clauseSchema.extend({ provenance: z.array(Provenance), objections: z.array(Objection) })),
    conflicts: z.array(Conflict),
    excludedSources: z.array(z.object({ id: z.string(), versionIri: z.string(), title: z.string(), reason: z.string() })),
    excludedClauses: z.array(z.object({ clauseId: z.string(), sourceId: z.string(), facet: z.enum(["domain", "audience", "locale", "deployment"]), reason: z.string() })),
    summary: z.object({
      sources: z.number().int(),
      includedSources: z.number().int(),
      excludedSources: z.number().int(),
      clauses: z.number().int(),
      clausesByAuthority: countsBy(AUTHORITY_LEVELS),
      excludedClauses: z.number().int(),
      deduplicated: z.number().int(),
      conflicts: z.number().int(),
      conflictsByKind: countsBy(CONFLICT_KINDS as unknown as readonly ["same-id-different-text", "declared", "objection"]),
    }),
    chosen: z.array(
      z.object({
        policyId: z.number().int(),
        version: z.number().int(),
        iri: z.string(),
        versionIri: z.string(),
        local: z.boolean(),
        title: z.string(),
        community: z.object({ name: z.string(), host: z.string().nullable().openapi({ description: "The other instance's host; null for this instance's own communities" }) }),
      }),
    ),
    preferences: z
      .object({
        examplePairs: z.number().int().openapi({ description: "Pairs from the effective clauses' own GOOD/BAD examples whose licence allows training: in every bundle" }),
        datasetRecords: z.number().int().openapi({ description: "Records of the chosen local policies' datasets whose raters allowed training and sharing: only with preferences=true" }),
        localSources: z.number().int(),
        followedSources: z.number().int().openapi({ description: "Followed policies' datasets are not included; pull them from their instance" }),
      })
      .openapi({ description: "What the bundle's preference files would hold" }),
  })
  .openapi("BundlePreview");
export type BundlePreview = z.infer<typeof BundlePreview>;
