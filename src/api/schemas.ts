/** zod schemas shared by the API routes; they also generate the OpenAPI document. */
import { z } from "@hono/zod-openapi";
import { FOLLOW_STATES, MEMBER_ROLES } from "../../db/schema.ts";
import { identifierSchema } from "../actors/local-actors.ts";
import { passwordSchema } from "../accounts/users.ts";
import { communityNameSchema, communitySummarySchema } from "../communities.ts";

/** Routes that need a personal API token. */
export const security = [{ bearer: [] }];

/** A JSON object whose shape the route documents in prose (diffs, reports, summaries). */
export const Loose = z.record(z.string(), z.unknown());

export const Problem = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .openapi("Problem");

export const problemResponse = (description: string) => ({
  content: { "application/problem+json": { schema: Problem } },
  description,
});

export const jsonResponse = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  content: { "application/json": { schema } },
  required: true,
});

export const Handle = identifierSchema.openapi({ example: "nurses" });

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

export const NewUser = z
  .object({
    username: identifierSchema,
    password: passwordSchema,
    displayName: z.string().max(100).optional(),
    admin: z.boolean().optional(),
  })
  .strict()
  .openapi("NewUser");

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

export const AsQuery = z.object({
  as: identifierSchema.optional().openapi({ description: "Act as this community (stewards only) instead of yourself" }),
});

export const FollowersQuery = AsQuery.extend({ state: z.enum(FOLLOW_STATES).optional() });

export const IdParam = z.object({ id: z.coerce.number().int().positive().openapi({ param: { name: "id", in: "path" } }) });
export const HandleParam = z.object({ handle: Handle.openapi({ param: { name: "handle", in: "path" } }) });
export const MemberParam = HandleParam.extend({
  username: identifierSchema.openapi({ param: { name: "username", in: "path" } }),
});
