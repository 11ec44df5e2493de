/**
 * Request and response schemas of the social area: the instance, accounts
 * and tokens, communities and members, follows and annotations. The routes
 * validate and document with them; the CLI and tests use their inferred
 * types (`z.output<typeof FollowView>`); web forms validate with the
 * request schemas before calling the same use case as the route.
 */
import { z } from "@hono/zod-openapi";
import { FOLLOW_STATES, JOIN_POLICIES, JOIN_REQUEST_STATES, MEMBER_ROLES } from "../../../db/schema.ts";
import { identifierSchema } from "../../actors/local-actors.ts";
import { MOTIVATIONS } from "../../policies/annotation.ts";
import { HandleParam } from "../schemas.ts";

// Request bodies the web forms validate with too live beside the use cases.
export {
  AnnotationEdit,
  CommunityChanges,
  DirectoryQuery,
  FollowRequest,
  InviteRedemption,
  JoinBody,
  MembershipBody,
  NewAnnotation,
  NewCommunity,
  NewInvite,
  NewUser,
} from "../../app/social-inputs.ts";

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
    joinPolicy: z.enum(JOIN_POLICIES).openapi({ description: "open: join at once; approval: a steward approves requests; invite: invite links only" }),
    followers: z.number().int(),
    createdAt: z.string().datetime(),
  })
  .openapi("Community");

export const MemberView = z
  .object({ username: z.string(), displayName: z.string(), role: z.enum(MEMBER_ROLES), joinedAt: z.string().datetime() })
  .openapi("Member");

export const CommunityDetail = CommunityView.extend({ members: z.array(MemberView) }).openapi("CommunityDetail");

export const DirectoryLocalEntry = CommunityView.extend({
  members: z.number().int(),
  policies: z.number().int(),
}).openapi("DirectoryLocalEntry");

export const DirectoryRemoteEntry = z
  .object({
    id: z.number().int().openapi({ description: "Its page on this instance is /remote-actors/{id}" }),
    actor: z.string().url(),
    fediverseHandle: z.string().nullable(),
    name: z.string().nullable(),
    summaryHtml: z.string().nullable().openapi({ description: "Its profile summary, sanitised" }),
    host: z.string(),
    url: z.string().nullable(),
    policies: z.number().int().openapi({ description: "Its policies this instance holds" }),
  })
  .openapi("DirectoryRemoteEntry");

export const DirectoryView = z
  .object({
    page: z.number().int(),
    pages: z.number().int(),
    total: z.number().int(),
    local: z.array(DirectoryLocalEntry),
    remote: z.array(DirectoryRemoteEntry),
  })
  .openapi("Directory");

export const JoinRequestView = z
  .object({
    id: z.number().int(),
    community: z.string(),
    username: z.string(),
    displayName: z.string(),
    message: z.string(),
    state: z.enum(JOIN_REQUEST_STATES),
    createdAt: z.string().datetime(),
    decidedAt: z.string().datetime().nullable(),
  })
  .openapi("JoinRequest");

export const JoinResultView = z
  .object({
    state: z.enum(["member", "pending"]).openapi({ description: "member: you joined; pending: your request waits for a steward" }),
    community: z.string(),
    request: JoinRequestView.nullable(),
  })
  .openapi("JoinResult");

export const CommunityInviteView = z
  .object({
    id: z.number().int(),
    singleUse: z.boolean(),
    uses: z.number().int(),
    expiresAt: z.string().datetime(),
    createdAt: z.string().datetime(),
  })
  .openapi("CommunityInvite");

export const NewCommunityInviteView = CommunityInviteView.extend({
  token: z.string().openapi({ description: "Shown once; only its hash is kept" }),
  url: z.string().url(),
}).openapi("NewCommunityInvite");

export const InviteIdParam = HandleParam.extend({ id: z.coerce.number().int().positive().openapi({ param: { name: "id", in: "path" } }) });



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
