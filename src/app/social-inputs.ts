/**
 * What the social use cases take (accounts, communities, follows,
 * annotations), as zod schemas: the JSON API validates request bodies with
 * them and web forms validate with the same ones (submitForm), so a field is
 * refused the same way everywhere.
 */
import { JOIN_POLICIES, MEMBER_ROLES } from "../../db/schema.ts";
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
    joinPolicy: z
      .enum(JOIN_POLICIES)
      .optional()
      .openapi({ description: "How people join: at once (open), by a steward's approval (approval), or only with an invite link (invite)" }),
  })
  .strict()
  .openapi("CommunityChanges");

export const JoinBody = z
  .object({ message: z.string().max(1000, "must be at most 1000 characters").optional().openapi({ description: "A note to the stewards (approval only)" }) })
  .strict()
  .openapi("JoinRequestBody");

export const NewInvite = z
  .object({
    singleUse: z.boolean().default(true).openapi({ description: "Works once (true), or for anyone until it expires (false)" }),
    validDays: z.number().int("must be a whole number of days").min(1, "must be at least 1 day").max(90, "must be at most 90 days").default(7),
  })
  .strict()
  .openapi("NewInvite");

export const InviteRedemption = z
  .object({ token: z.string().trim().min(1, "must not be empty").max(200, "is not an invite link") })
  .strict()
  .openapi("InviteRedemption");

export const DirectoryQuery = z.object({
  q: z.string().trim().max(100, "must be at most 100 characters").optional().openapi({ description: "Words in the handle, name or summary" }),
  page: z.coerce.number().int().min(1).max(10_000).default(1),
});

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
