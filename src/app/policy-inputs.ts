/**
 * What the policy and fork use cases take, as zod schemas: the JSON API
 * validates request bodies with them and web forms validate with the same
 * ones (submitForm), so a field is refused the same way everywhere.
 */
import { clauseSchema, policyContentSchema } from "../policies/content.ts";
import { resolutionsSchema } from "../policies/merge.ts";
import { slugSchema } from "../policies/policies.ts";
import { z } from "../zod.ts";

export const NewPolicy = z
  .object({ community: z.string(), slug: slugSchema.optional(), content: policyContentSchema })
  .strict()
  .openapi("NewPolicy");

export const IMPORT_FORMATS = ["modelspec", "constitution", "json"] as const;

export const ImportRequest = z
  .object({
    community: z.string(),
    slug: slugSchema.optional(),
    format: z.enum(IMPORT_FORMATS),
    source: z.string().min(1, "must not be empty").openapi({ description: "The file's text" }),
    title: z.string().optional(),
    licence: z.string().optional(),
  })
  .strict()
  .openapi("PolicyImport");

export const PublishRequest = z.object({ message: z.string().max(5000).optional() }).strict().openapi("PublishRequest");

/** Title, summary and licence of a draft (the web's metadata form). */
export const DraftMetadata = z.object({ title: z.string(), summary: z.string(), licence: z.string() });

export const ClauseInput = clauseSchema;

export const ForkRequest = z
  .object({
    version: z.string().url().openapi({ description: "IRI of the version to fork (on any instance)" }),
    into: z.string().openapi({ description: "Handle of a community you steward" }),
    slug: slugSchema.optional().openapi({ description: "Last part of the fork's IRI (default: from the title)" }),
  })
  .strict()
  .openapi("ForkRequest");

export const MergeRequest = z.object({ resolutions: resolutionsSchema.optional() }).strict().openapi("MergeRequest");

export type NewPolicyInput = z.output<typeof NewPolicy>;
export type ImportInput = z.output<typeof ImportRequest>;
export type ForkInput = z.output<typeof ForkRequest>;
