/**
 * Request and response schemas of the social area: the instance, accounts
 * and tokens, communities and members, follows and annotations. The routes
 * validate and document with them; the CLI and tests use their inferred
 * types (`z.output<typeof FollowView>`); web forms validate with the
 * request schemas before calling the same use case as the route.
 */
import { z } from "@hono/zod-openapi";
import { FOLLOW_STATES, MEMBER_ROLES } from "../../../db/schema.ts";
import { identifierSchema } from "../../actors/local-actors.ts";
import { MOTIVATIONS } from "../../policies/annotation.ts";
import { HandleParam } from "../schemas.ts";

// Request bodies the web forms validate with too live beside the use cases.
export { AnnotationEdit, CommunityChanges, FollowRequest, MembershipBody, NewAnnotation, NewCommunity, NewUser } from "../../app/social-inputs.ts";

export const Instance = z
  .object({
    name: z.string(),
    origin: z.string().url(),
    software: z.object({ name: z.string(), version: z.string() }),
    actor: z.string().url(),
    users: z.number().int(),
    communities: z.number().int(),
  })
  .openapi("Instance");

export const UserView = z
  .object({
    username: z.string(),
    displayName: z.string(),
    isAdmin: z.boolean(),
    actor: z.string().url(),
    handle: z.string(),
    createdAt: z.string().datetime(),
  })
  .openapi("User");

export const Me = UserView.extend({
  communities: z.array(z.object({ handle: z.string(), role: z.enum(MEMBER_ROLES) })),
}).openapi("Me");

export const TokenRequest = z
  .object({
    username: z.string().min(1),
    password: z.string().min(1),
    label: z.string().min(1).max(100).default("cli"),
  })
  .strict()
  .openapi("TokenRequest");

export const TokenView = z
  .object({
    id: z.number().int(),
    label: z.string(),
    createdAt: z.string().datetime(),
    lastUsedAt: z.string().datetime().nullable(),
    revokedAt: z.string().datetime().nullable(),
  })
  .openapi("Token");

export const NewToken = TokenView.extend({ token: z.string() }).openapi("NewToken");

export const CommunityView = z
  .object({
    handle: z.string(),
    name: z.string(),
    summary: z.string(),
    actor: z.string().url(),
    fediverseHandle: z.string(),
    manuallyApprovesFollowers: z.boolean(),
    followers: z.number().int(),
    createdAt: z.string().datetime(),
  })
  .openapi("Community");

export const MemberView = z
  .object({ username: z.string(), displayName: z.string(), role: z.enum(MEMBER_ROLES), joinedAt: z.string().datetime() })
  .openapi("Member");

export const CommunityDetail = CommunityView.extend({ members: z.array(MemberView) }).openapi("CommunityDetail");



export const FollowView = z
  .object({
    id: z.number().int(),
    state: z.enum(FOLLOW_STATES),
    actor: z.object({
      iri: z.string().url(),
      handle: z.string().nullable(),
      name: z.string().nullable(),
      type: z.string().nullable(),
    }),
    createdAt: z.string().datetime(),
    updatedAt: z.string().datetime(),
  })
  .openapi("Follow");

export const AsQuery = z.object({
  as: identifierSchema.optional().openapi({ description: "Act as this community (stewards only) instead of yourself" }),
});

export const FollowersQuery = AsQuery.extend({ state: z.enum(FOLLOW_STATES).optional() });

export const MemberParam = HandleParam.extend({
  username: identifierSchema.openapi({ param: { name: "username", in: "path" } }),
});


export const AnnotationIri = z.object({ iri: z.string().url() }).strict().openapi("AnnotationIri");

export const AnnotationHide = AnnotationIri.extend({ hidden: z.boolean().default(true) }).strict().openapi("AnnotationHide");

export const AnnotationsQuery = z.object({ target: z.string().url(), hidden: z.enum(["true", "false"]).optional() });

export const AnnotationView = z
  .object({
    iri: z.string().url(),
    author: z.string().url(),
    policy: z.string().url(),
    version: z.string().openapi({ description: "The annotated version's IRI, or the proposal's for a comment in its discussion" }),
    clause: z.string().nullable(),
    motivation: z.enum(MOTIVATIONS),
    text: z.string(),
    quote: z.string().nullable(),
    suggestedText: z.string().nullable(),
    outdated: z.boolean().openapi({ description: "The clause changed in a later version" }),
    hidden: z.boolean(),
    local: z.boolean(),
    published: z.string().datetime(),
    updated: z.string().datetime().nullable(),
  })
  .openapi("Annotation");

export const BlockBody = z
  .object({ target: z.string().min(1).openapi({ description: "An actor IRI, or a host name to block a whole instance" }) })
  .strict()
  .openapi("Block");

export const BlockView = z.object({ target: z.string(), kind: z.string() }).openapi("BlockEntry");

export const BlockChange = z.object({ target: z.string(), blocked: z.boolean() }).openapi("BlockChange");
