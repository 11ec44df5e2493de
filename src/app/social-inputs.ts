/**
 * What the social use cases take (accounts, communities, follows,
 * annotations), as zod schemas: the JSON API validates request bodies with
 * them and web forms validate with the same ones (submitForm), so a field is
 * refused the same way everywhere.
 */
import { MEMBER_ROLES } from "../../db/schema.ts";
import { passwordSchema } from "../accounts/users.ts";
import { identifierSchema } from "../actors/local-actors.ts";
import { communityNameSchema, communitySummarySchema } from "../communities.ts";
import { MOTIVATIONS } from "../policies/annotation.ts";
import { z } from "../zod.ts";

export const NewUser = z
  .object({
    username: identifierSchema,
    password: passwordSchema,
    displayName: z.string().max(100).optional(),
    admin: z.boolean().optional(),
  })
  .strict()
  .openapi("NewUser");

export const NewCommunity = z
  .object({
    handle: identifierSchema,
    name: communityNameSchema,
    summary: communitySummarySchema.optional(),
    manuallyApprovesFollowers: z.boolean().optional(),
  })
  .strict()
  .openapi("NewCommunity");

export const CommunityChanges = z
  .object({
    name: communityNameSchema.optional(),
    summary: communitySummarySchema.optional(),
    manuallyApprovesFollowers: z.boolean().optional(),
    minGroupSize: z.number().int().min(1).max(1000).optional().openapi({ description: "Smallest group shown in preference breakdowns" }),
  })
  .strict()
  .openapi("CommunityChanges");

export const MembershipBody = z.object({ role: z.enum(MEMBER_ROLES) }).strict().openapi("Membership");

export const FollowRequest = z
  .object({
    target: z
      .string()
      .min(3)
      .openapi({ description: "`@handle@host` or an actor URL", example: "@nurses@care.example" }),
    as: identifierSchema.optional().openapi({ description: "Follow as this community (stewards only) instead of yourself" }),
  })
  .strict()
  .openapi("FollowRequest");

export const NewAnnotation = z
  .object({
    target: z.string().url().openapi({ description: "The clause IRI (…/versions/N/clauses/ID), a proposal IRI to join its discussion, or an annotation IRI to reply to it (its author is notified)" }),
    motivation: z.enum(MOTIVATIONS),
    text: z.string(),
    quote: z.string().optional(),
    suggestedText: z.string().optional(),
    as: z.string().optional().openapi({ description: "Annotate as a community you steward" }),
  })
  .strict()
  .openapi("NewAnnotation");

export const AnnotationEdit = z
  .object({ iri: z.string().url(), text: z.string().optional(), suggestedText: z.string().optional() })
  .strict()
  .openapi("AnnotationEdit");
