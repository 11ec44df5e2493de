/**
 * Drizzle schema of a Fedalign instance. SQLite is the embedded default; the
 * column types are kept to what PostgreSQL also has (text, integer, booleans
 * as integers, timestamps as epoch milliseconds) so the schema can move.
 * db/postgres/schema.ts says the same for PostgreSQL: change both (README,
 * "Layout"); test/schema-drift.test.ts fails when they drift apart.
 */
import { sql } from "drizzle-orm";
import {
  index,
  integer,
  primaryKey,
  sqliteTable,
  text,
  uniqueIndex,
} from "drizzle-orm/sqlite-core";

const createdAt = () =>
  integer("created_at", { mode: "timestamp_ms" })
    .notNull()
    .default(sql`(unixepoch('subsec') * 1000)`);

export const ACTOR_KINDS = ["instance", "community", "user"] as const;
export type ActorKind = (typeof ACTOR_KINDS)[number];

/** Actors hosted on this instance: the instance itself, communities and users. */
export const actors = sqliteTable("actors", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  /** The path segment of the actor IRI and the WebFinger username. */
  identifier: text("identifier").notNull().unique(),
  kind: text("kind", { enum: ACTOR_KINDS }).notNull(),
  name: text("name").notNull(),
  summary: text("summary").notNull().default(""),
  manuallyApprovesFollowers: integer("manually_approves_followers", { mode: "boolean" })
    .notNull()
    .default(false),
  createdAt: createdAt(),
});

export const KEY_ALGORITHMS = ["RSASSA-PKCS1-v1_5", "Ed25519"] as const;
export type KeyAlgorithm = (typeof KEY_ALGORITHMS)[number];

/** Each local actor has one RSA-2048 key (HTTP signatures) and one Ed25519 key (proofs). */
export const actorKeys = sqliteTable(
  "actor_keys",
  {
    actorId: integer("actor_id")
      .notNull()
      .references(() => actors.id, { onDelete: "cascade" }),
    algorithm: text("algorithm", { enum: KEY_ALGORITHMS }).notNull(),
    publicJwk: text("public_jwk", { mode: "json" }).$type<JsonWebKey>().notNull(),
    privateJwk: text("private_jwk", { mode: "json" }).$type<JsonWebKey>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.actorId, t.algorithm] })],
);

export const users = sqliteTable("users", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  actorId: integer("actor_id")
    .notNull()
    .unique()
    .references(() => actors.id, { onDelete: "cascade" }),
  username: text("username").notNull().unique(),
  /** scrypt$N$r$p$salt$hash, all base64url; see src/accounts/passwords.ts. */
  passwordHash: text("password_hash").notNull(),
  isAdmin: integer("is_admin", { mode: "boolean" }).notNull().default(false),
  createdAt: createdAt(),
});

export const JOIN_POLICIES = ["open", "approval", "invite"] as const;
export type JoinPolicy = (typeof JOIN_POLICIES)[number];

export const communities = sqliteTable("communities", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  actorId: integer("actor_id")
    .notNull()
    .unique()
    .references(() => actors.id, { onDelete: "cascade" }),
  handle: text("handle").notNull().unique(),
  /** Smallest group shown in preference breakdowns (k-anonymity). */
  minGroupSize: integer("min_group_size").notNull().default(5),
  /** Decision rules overriding the defaults, per authority level (src/participation/decision.ts). */
  decisionRules: text("decision_rules", { mode: "json" }).$type<Record<string, unknown>>().notNull().default({}),
  /** What an adopted proposal does: "draft" (changes the draft) or "publish" (publishes a version). */
  adoptMode: text("adopt_mode", { enum: ["draft", "publish"] }).notNull().default("draft"),
  /** Hosts of partner instances whose members may vote on this community's proposals. */
  partners: text("partners", { mode: "json" }).$type<string[]>().notNull().default([]),
  /** How people join: at once ("open"), by a steward's approval ("approval"), or with an invite link ("invite"). */
  joinPolicy: text("join_policy", { enum: JOIN_POLICIES }).notNull().default("approval"),
  createdAt: createdAt(),
});


export const MEMBER_ROLES = ["steward", "member"] as const;
export type MemberRole = (typeof MEMBER_ROLES)[number];

export const JOIN_REQUEST_STATES = ["pending", "approved", "refused"] as const;
export type JoinRequestState = (typeof JOIN_REQUEST_STATES)[number];

/**
 * Requests to join a community whose join policy is "approval": one row per
 * person and community, pending until a steward approves (the person becomes
 * a member) or refuses it. Withdrawing deletes the row.
 */
export const joinRequests = sqliteTable(
  "join_requests",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    message: text("message").notNull().default(""),
    state: text("state", { enum: JOIN_REQUEST_STATES }).notNull().default("pending"),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
    decidedBy: integer("decided_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [uniqueIndex("join_requests_person").on(t.communityId, t.userId), index("join_requests_state").on(t.communityId, t.state)],
);

/**
 * Invite links to a community (any join policy). Only a SHA-256 of the
 * high-entropy token is kept; `maxUses` 1 makes a single-use link, null one
 * that works until it expires.
 */
export const communityInvites = sqliteTable(
  "community_invites",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    maxUses: integer("max_uses"),
    uses: integer("uses").notNull().default(0),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
    revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("community_invites_community").on(t.communityId)],
);

export const memberships = sqliteTable(
  "memberships",
  {
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text("role", { enum: MEMBER_ROLES }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.communityId, t.userId] })],
);

/** Personal API tokens. Only a SHA-256 of the (high-entropy) token is kept. */
export const apiTokens = sqliteTable("api_tokens", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  userId: integer("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  label: text("label").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: createdAt(),
  lastUsedAt: integer("last_used_at", { mode: "timestamp_ms" }),
  revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
});

/** Web login sessions, keyed by a SHA-256 of the cookie value. */
export const sessions = sqliteTable("sessions", {
  idHash: text("id_hash").primaryKey(),
  userId: integer("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  csrfToken: text("csrf_token").notNull(),
  createdAt: createdAt(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
});

/**
 * Actor documents seen through federation (remote ones, and local ones when
 * they arrive over HTTP like any other), keyed by IRI.
 */
export const federatedActors = sqliteTable("federated_actors", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  iri: text("iri").notNull().unique(),
  type: text("type").notNull(),
  handle: text("handle"),
  name: text("name"),
  /** The profile's summary as sent (HTML; sanitised when shown). */
  summary: text("summary"),
  inboxUrl: text("inbox_url").notNull(),
  sharedInboxUrl: text("shared_inbox_url"),
  url: text("url"),
  fetchedAt: integer("fetched_at", { mode: "timestamp_ms" }).notNull(),
});

export const FOLLOW_STATES = ["pending", "accepted", "rejected"] as const;
export type FollowState = (typeof FOLLOW_STATES)[number];

/**
 * Follow relations in both directions, by IRI: a local actor following any
 * actor, and any actor following a local actor. One row per pair, so a
 * follow between two actors of this instance is a single row.
 */
export const follows = sqliteTable(
  "follows",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    followerIri: text("follower_iri").notNull(),
    followeeIri: text("followee_iri").notNull(),
    /** IRI of the Follow activity; Accept/Reject/Undo refer to it. */
    activityIri: text("activity_iri").notNull(),
    state: text("state", { enum: FOLLOW_STATES }).notNull(),
    createdAt: createdAt(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    uniqueIndex("follows_pair").on(t.followerIri, t.followeeIri),
    index("follows_followee").on(t.followeeIri, t.state),
    index("follows_activity").on(t.activityIri),
  ],
);

/**
 * Undo activities that arrived before the Follow they undo (deliveries are
 * not ordered): remembered for a while so the late Follow does not revive the
 * relation. Any remote actor can create these rows, so they expire.
 */
export const undoneFollows = sqliteTable(
  "undone_follows",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** IRI of the Follow that was undone. */
    followIri: text("follow_iri").notNull(),
    followerIri: text("follower_iri").notNull(),
    expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("undone_follows_follow").on(t.followIri, t.followerIri), index("undone_follows_expiry").on(t.expiresAt)],
);

/**
 * The transactional outbox: federation effects (activities to send, remote
 * documents to fetch) that a use case caused, written in the same
 * transaction as the change itself. The dispatcher (federation/outbox-dispatcher.ts)
 * turns each into Fedify queue messages and marks it dispatched in one
 * transaction, so a crash loses nothing and sends nothing twice.
 */
export const outbox = sqliteTable(
  "outbox",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The effect's kind, e.g. "version.published" (src/app/effects.ts). */
    kind: text("kind").notNull(),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    /** Not before this moment: a retry's backoff, or another dispatcher's lease on the row. */
    dueAt: integer("due_at", { mode: "timestamp_ms" }).notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    dispatchedAt: integer("dispatched_at", { mode: "timestamp_ms" }),
    /** Set when the dispatcher gave up after its last attempt. */
    abandonedAt: integer("abandoned_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("outbox_pending").on(t.dispatchedAt, t.abandonedAt, t.dueAt)],
);

/**
 * Policies, local and mirrored, keyed by IRI. A local policy belongs to a
 * community of this instance and has a draft; a mirrored one was received
 * from another instance (community_id is null) and only has versions.
 */
export const policies = sqliteTable(
  "policies",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    iri: text("iri").notNull().unique(),
    /** The owning community's actor IRI (local or remote). */
    ownerIri: text("owner_iri").notNull(),
    communityId: integer("community_id").references(() => communities.id, { onDelete: "cascade" }),
    /** Path segment of a local policy's IRI; for mirrors, the last segment of theirs. */
    slug: text("slug").notNull(),
    title: text("title").notNull(),
    summary: text("summary").notNull().default(""),
    licence: text("licence").notNull(),
    /** The working draft (local policies only), a PolicyContent document. */
    draft: text("draft", { mode: "json" }).$type<Record<string, unknown>>(),
    draftUpdatedAt: integer("draft_updated_at", { mode: "timestamp_ms" }),
    /** For a fork: the upstream version it was forked from, and that version's hash. */
    forkedFromIri: text("forked_from_iri"),
    forkedFromHash: text("forked_from_hash"),
    /** For a fork: the upstream policy, which the fork's community follows. */
    upstreamIri: text("upstream_iri"),
    /** For a fork: the last upstream version merged in (the fork point until the first merge). */
    mergeBaseIri: text("merge_base_iri"),
    /** An upstream version merged into the draft, not yet published. */
    pendingMergeIri: text("pending_merge_iri"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("policies_community_slug").on(t.communityId, t.slug), index("policies_owner").on(t.ownerIri)],
);

/**
 * Immutable published versions. `document` is the signed version document
 * exactly as published (and served, and received), so its proof can always
 * be checked again; the other columns are extracted from it for queries.
 */
export const policyVersions = sqliteTable(
  "policy_versions",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    iri: text("iri").notNull().unique(),
    number: integer("number").notNull(),
    contentHash: text("content_hash").notNull(),
    changelog: text("changelog").notNull().default(""),
    document: text("document", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    publishedAt: integer("published_at", { mode: "timestamp_ms" }).notNull(),
    /** When this instance stored it (publication for local versions). */
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
    retractedAt: integer("retracted_at", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("policy_versions_number").on(t.policyId, t.number)],
);

/** Forks of our policies that other communities told us about (the `forks` collection). */
export const policyForks = sqliteTable(
  "policy_forks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    forkIri: text("fork_iri").notNull().unique(),
    forkOwnerIri: text("fork_owner_iri").notNull(),
    forkedFromIri: text("forked_from_iri").notNull(),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("policy_forks_policy").on(t.policyId)],
);

export const MOTIVATIONS = ["comment", "question", "endorse", "object", "suggest-edit", "context-note"] as const;

/**
 * Annotations on clauses (or whole versions), from anyone in the fediverse,
 * keyed by the IRI of the Note that carries them.
 */
export const annotations = sqliteTable(
  "annotations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    iri: text("iri").notNull().unique(),
    authorIri: text("author_iri").notNull(),
    policyIri: text("policy_iri").notNull(),
    versionIri: text("version_iri").notNull(),
    /** Null for a reply to the whole version (a plain Mastodon reply to the article). */
    clauseId: text("clause_id"),
    motivation: text("motivation", { enum: MOTIVATIONS }).notNull(),
    text: text("text").notNull(),
    selector: text("selector", { mode: "json" }).$type<{ exact: string; prefix: string; suffix: string }>(),
    suggestedText: text("suggested_text"),
    /** The Note as received or published, kept so it can be served and re-checked. */
    note: text("note", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    local: integer("local", { mode: "boolean" }).notNull().default(false),
    published: integer("published", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }),
    hiddenAt: integer("hidden_at", { mode: "timestamp_ms" }),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("annotations_target").on(t.policyIri, t.clauseId), index("annotations_author").on(t.authorIri)],
);

/** Remote actors or whole instances a community will not hear annotations or offers from. */
export const blocks = sqliteTable(
  "blocks",
  {
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    /** An actor IRI, or a host name for a whole instance. */
    target: text("target").notNull(),
    kind: text("kind", { enum: ["actor", "instance"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.communityId, t.target] })],
);

export const OFFER_STATES = ["pending", "accepted", "rejected"] as const;

/** Amendments offered upstream (outgoing) or received from forks (incoming), ForgeFed style. */
export const offers = sqliteTable(
  "offers",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    iri: text("iri").notNull().unique(),
    direction: text("direction", { enum: ["incoming", "outgoing"] }).notNull(),
    /** The upstream policy the changes are offered to. */
    targetIri: text("target_iri").notNull(),
    /** The fork the changes come from, and the community offering them. */
    originIri: text("origin_iri").notNull(),
    actorIri: text("actor_iri").notNull(),
    /** The change set (src/policies/changeset.ts). */
    changes: text("changes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    message: text("message").notNull().default(""),
    state: text("state", { enum: OFFER_STATES }).notNull().default("pending"),
    reason: text("reason"),
    createdAt: createdAt(),
    decidedAt: integer("decided_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("offers_target").on(t.targetIri, t.state)],
);

/**
 * Comparison tasks: a prompt and candidate responses members judge, made by
 * stewards from a policy version's examples or from uploaded prompts.
 */
export const preferenceTasks = sqliteTable(
  "preference_tasks",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    policyId: integer("policy_id").references(() => policies.id, { onDelete: "set null" }),
    versionIri: text("version_iri"),
    clauseIds: text("clause_ids", { mode: "json" }).$type<string[]>().notNull(),
    title: text("title").notNull().default(""),
    prompt: text("prompt", { mode: "json" }).$type<{ role: string; content: string }[]>().notNull(),
    responses: text("responses", { mode: "json" }).$type<{ content: string }[]>().notNull(),
    /**
     * What makes two tasks the same comparison (src/preferences/tasks.ts `taskKey`): creating a
     * task again, even from two requests at once, finds this row instead of adding a duplicate.
     * Null only for tasks made before keys existed, until their community next creates tasks.
     */
    taskKey: text("task_key"),
    createdAt: createdAt(),
    closedAt: integer("closed_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("preference_tasks_community").on(t.communityId), uniqueIndex("preference_tasks_community_key").on(t.communityId, t.taskKey)],
);

/**
 * Preference records of a community: imported ones and members' answers to
 * tasks. Consent terms are columns so that exports filter on them cheaply.
 */
export const preferenceRecords = sqliteTable(
  "preference_records",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    policyId: integer("policy_id").references(() => policies.id, { onDelete: "set null" }),
    /** Content fingerprint: re-importing the same file into the same community adds nothing (unique per community). */
    dedupKey: text("dedup_key").notNull(),
    /** The normal form (src/preferences/record.ts), consent included as it was given. */
    record: text("record", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    raterId: text("rater_id").notNull(),
    consentTrain: integer("consent_train", { mode: "boolean" }).notNull(),
    consentFederate: integer("consent_federate", { mode: "boolean" }).notNull(),
    consentBreakdown: integer("consent_breakdown", { mode: "boolean" }).notNull(),
    sourceName: text("source_name"),
    taskId: integer("task_id").references(() => preferenceTasks.id, { onDelete: "cascade" }),
    /** The member who answered a task (private; exports carry only raterId). */
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [
    index("preference_records_policy").on(t.policyId, t.consentTrain),
    index("preference_records_community").on(t.communityId, t.id),
    uniqueIndex("preference_records_task_user").on(t.taskId, t.userId),
    // The federated dataset's keyset paging (policy, consent to federate, id > after): without it every page scans the policy's records.
    index("preference_records_federated").on(t.policyId, t.consentFederate, t.id),
    // Per community: a second community may import the same public data set.
    uniqueIndex("preference_records_community_dedup").on(t.communityId, t.dedupKey),
  ],
);

/** Preference records other instances federated to us, as published in their datasets. */
export const mirroredPreferences = sqliteTable(
  "mirrored_preferences",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    iri: text("iri").notNull().unique(),
    policyIri: text("policy_iri").notNull(),
    record: text("record", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    consentTrain: integer("consent_train", { mode: "boolean" }).notNull(),
    consentBreakdown: integer("consent_breakdown", { mode: "boolean" }).notNull(),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("mirrored_preferences_policy").on(t.policyIri)],
);

/** Rows of an import in progress, moved into preference_records in one transaction at the end. */
export const preferenceImportStaging = sqliteTable(
  "preference_import_staging",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    importId: text("import_id").notNull(),
    communityId: integer("community_id").notNull(),
    policyId: integer("policy_id"),
    dedupKey: text("dedup_key").notNull(),
    record: text("record").notNull(),
    raterId: text("rater_id").notNull(),
    consentTrain: integer("consent_train").notNull(),
    consentFederate: integer("consent_federate").notNull(),
    consentBreakdown: integer("consent_breakdown").notNull(),
    sourceName: text("source_name"),
    createdAt: integer("created_at").notNull(),
  },
  (t) => [index("preference_import_staging_import").on(t.importId)],
);

/** Proposals: change sets members put to a vote against a policy's head version. */
export const proposals = sqliteTable(
  "proposals",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    authorId: integer("author_id").references(() => users.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    summary: text("summary").notNull().default(""),
    changes: text("changes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    baseVersionIri: text("base_version_iri").notNull(),
    /** The strictest authority level among the clauses it touches: it picks the rule. */
    level: text("level").notNull(),
    openedAt: integer("opened_at", { mode: "timestamp_ms" }).notNull(),
    closesAt: integer("closes_at", { mode: "timestamp_ms" }).notNull(),
    state: text("state", { enum: ["open", "adopted", "rejected"] }).notNull().default("open"),
    tally: text("tally", { mode: "json" }).$type<Record<string, unknown>>(),
    closedAt: integer("closed_at", { mode: "timestamp_ms" }),
    resultVersionIri: text("result_version_iri"),
    /** An upstream offer this proposal came from. */
    offerIri: text("offer_iri"),
  },
  (t) => [index("proposals_policy").on(t.policyId, t.state)],
);

/**
 * A member's proposal while they build it: the changes so far (a change set
 * against `baseVersionIri`), one draft per member and policy. Kept on the
 * server so that previewing, going back or leaving loses nothing; removed
 * when the proposal opens.
 */
export const proposalDrafts = sqliteTable(
  "proposal_drafts",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    baseVersionIri: text("base_version_iri").notNull(),
    changes: text("changes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    updatedAt: integer("updated_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("proposal_drafts_policy_user").on(t.policyId, t.userId)],
);

/**
 * Proposals of communities this instance follows, as their `Question`s
 * arrived (Create when opened, Update when closed), so members see them in
 * their feed. Keyed by the proposal's IRI; the policy must be one we hold.
 */
export const remoteProposals = sqliteTable(
  "remote_proposals",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    iri: text("iri").notNull().unique(),
    policyIri: text("policy_iri").notNull(),
    ownerIri: text("owner_iri").notNull(),
    name: text("name").notNull(),
    /** As sent; sanitised when rendered. */
    contentHtml: text("content_html").notNull().default(""),
    endTime: integer("end_time", { mode: "timestamp_ms" }),
    closedAt: integer("closed_at", { mode: "timestamp_ms" }),
    /** Votes per option (yes, no, abstain, block) and voters, as the poll last reported them. */
    counts: text("counts", { mode: "json" }).$type<Record<string, number>>().notNull(),
    voters: integer("voters"),
    receivedAt: integer("received_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [index("remote_proposals_policy").on(t.policyIri)],
);

export const proposalVotes = sqliteTable(
  "proposal_votes",
  {
    proposalId: integer("proposal_id")
      .notNull()
      .references(() => proposals.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    value: text("value", { enum: ["yes", "no", "abstain", "block"] }).notNull(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.userId] })],
);

/** Votes on proposals from members of partner instances, signed by their actors. */
export const partnerVotes = sqliteTable(
  "partner_votes",
  {
    proposalId: integer("proposal_id")
      .notNull()
      .references(() => proposals.id, { onDelete: "cascade" }),
    actorIri: text("actor_iri").notNull(),
    value: text("value", { enum: ["yes", "no", "abstain", "block"] }).notNull(),
    at: integer("at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.actorIri] })],
);

/**
 * Votes our members sent to other instances' proposals, and what became of
 * them: a community that refuses one (not a partner, poll closed) answers
 * with a Reject whose reason the voter sees here.
 */
export const sentVotes = sqliteTable(
  "sent_votes",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** The Create activity carrying the vote, and the vote Note itself. */
    activityIri: text("activity_iri").notNull().unique(),
    noteIri: text("note_iri").notNull().unique(),
    voterIri: text("voter_iri").notNull(),
    proposalIri: text("proposal_iri").notNull(),
    /** The community that owns the proposal: the only actor whose Reject counts. */
    ownerIri: text("owner_iri").notNull(),
    value: text("value", { enum: ["yes", "no", "abstain", "block"] }).notNull(),
    state: text("state", { enum: ["sent", "refused"] }).notNull().default("sent"),
    reason: text("reason"),
    sentAt: integer("sent_at", { mode: "timestamp_ms" }).notNull(),
    answeredAt: integer("answered_at", { mode: "timestamp_ms" }),
  },
  (t) => [index("sent_votes_voter").on(t.voterIri, t.proposalIri)],
);

/**
 * A conversation: a set of statements voted on together (a Polis conversation,
 * imported or held here). A community holds several; ids from a Polis export
 * are unique only within their conversation.
 */
export const conversations = sqliteTable(
  "conversations",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    /** Unique within the community; how imports and queries name it. */
    name: text("name").notNull(),
    /** "local": members' statements and votes (pseudonymous participants); "polis": imported from a Polis export. */
    source: text("source", { enum: ["local", "polis"] }).notNull(),
    topic: text("topic"),
    url: text("url"),
    description: text("description"),
    /** An imported summary.csv, key by key in file order, written back on export. */
    summary: text("summary", { mode: "json" }).$type<[string, string][]>(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
  },
  (t) => [uniqueIndex("conversations_name").on(t.communityId, t.name)],
);

/** Statements members vote agree / disagree / pass on (Polis style), free or about a clause. */
export const statements = sqliteTable(
  "statements",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    /** Always set (older rows were given their community's "main" conversation by migration). */
    conversationId: integer("conversation_id").references(() => conversations.id, { onDelete: "cascade" }),
    /** The id in an imported Polis conversation, kept for export and re-import. */
    externalId: text("external_id"),
    clauseId: text("clause_id"),
    body: text("body").notNull(),
    author: text("author").notNull(),
    moderation: text("moderation", { enum: ["accepted", "pending", "rejected"] }).notNull().default("pending"),
    /** Polis' moderated value (1, 0 or -1) as imported, until a steward moderates here. */
    polisModerated: integer("polis_moderated"),
    /** Null when an import did not say (exported empty, never as 1970). */
    createdAt: integer("created_at", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("statements_external").on(t.conversationId, t.externalId), index("statements_community").on(t.communityId)],
);

export const statementVotes = sqliteTable(
  "statement_votes",
  {
    statementId: integer("statement_id")
      .notNull()
      .references(() => statements.id, { onDelete: "cascade" }),
    /** A member's pseudonym, or an imported participant id (unique within its conversation). */
    participant: text("participant").notNull(),
    value: integer("value").notNull(),
    /** Null when an import did not say. */
    at: integer("at", { mode: "timestamp_ms" }),
  },
  (t) => [primaryKey({ columns: [t.statementId, t.participant] })],
);

/** Participants of an imported conversation with what the export said of them (participants-votes.csv). */
export const conversationParticipants = sqliteTable(
  "conversation_participants",
  {
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    participant: text("participant").notNull(),
    xid: text("xid"),
    /** Polis' group-id, null when Polis left them ungrouped. */
    polisGroup: text("polis_group"),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.participant] })],
);

export const NOTIFICATION_KINDS = [
  "annotation.replied",
  "offer.accepted",
  "offer.rejected",
  "proposal.opened",
  "proposal.closed",
  "version.published",
  "follow.requested",
  "join.requested",
  "join.decided",
] as const;
export type NotificationKind = (typeof NOTIFICATION_KINDS)[number];

/**
 * What a person is told happened (src/app/notifications.ts), written in the
 * transaction of the event that caused it. One row per person, kind and
 * subject (the reply, offer, proposal, version or follow it is about), so a
 * redelivered activity tells nobody twice. The text is written when it
 * happened: later renames do not rewrite history.
 */
export const notifications = sqliteTable(
  "notifications",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: NOTIFICATION_KINDS }).notNull(),
    /** The IRI of what it is about. */
    subjectIri: text("subject_iri").notNull(),
    /** Who caused it (a local or remote actor), when someone did. */
    actorIri: text("actor_iri"),
    /** One line of plain text. */
    text: text("text").notNull(),
    /** Where to look: a path on this instance or another instance's IRI. */
    url: text("url").notNull(),
    createdAt: integer("created_at", { mode: "timestamp_ms" }).notNull(),
    readAt: integer("read_at", { mode: "timestamp_ms" }),
  },
  (t) => [uniqueIndex("notifications_subject").on(t.userId, t.kind, t.subjectIri), index("notifications_user").on(t.userId, t.readAt, t.id)],
);

/** Instance-wide settings (name, sign-up mode, ...), one JSON value per key. */
export const settings = sqliteTable("settings", {
  key: text("key").primaryKey(),
  value: text("value", { mode: "json" }).notNull(),
});

/**
 * Invitations to sign up while registrations are invite-only. The code is kept
 * in clear so an admin can hand it out again; `maxUses` null means no limit.
 */
export const invites = sqliteTable("invites", {
  id: integer("id").primaryKey({ autoIncrement: true }),
  code: text("code").notNull().unique(),
  createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
  maxUses: integer("max_uses"),
  uses: integer("uses").notNull().default(0),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }),
  revokedAt: integer("revoked_at", { mode: "timestamp_ms" }),
  createdAt: createdAt(),
});

/** Fedify's key-value store (federation/kv-store.ts). Keys are JSON arrays. */
export const fedifyKv = sqliteTable(
  "fedify_kv",
  {
    key: text("key").primaryKey(),
    value: text("value").notNull(),
    expiresAt: integer("expires_at"),
  },
  (t) => [index("fedify_kv_expires").on(t.expiresAt)],
);

/** Fedify's message queue (federation/message-queue.ts). */
export const fedifyQueue = sqliteTable(
  "fedify_queue",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    /** Fedify's inbox, outbox and fan-out queues share the table. */
    queue: text("queue").notNull().default("default"),
    message: text("message").notNull(),
    orderingKey: text("ordering_key"),
    /** Epoch ms before which the message must not be handled. */
    deliverAt: integer("deliver_at").notNull(),
    /** Set while a worker handles the message; a lease that expires if it dies. */
    lockedUntil: integer("locked_until"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: integer("created_at").notNull(),
    /**
     * The host a delivery goes to (outbox queue only): the queue hands out at
     * most a few deliveries per host at a time (federation/message-queue.ts).
     */
    host: text("host"),
  },
  (t) => [
    // Covers the claim scan, so skipping rows of a busy host never reads a message body.
    index("fedify_queue_claim").on(t.queue, t.deliverAt, t.id, t.lockedUntil, t.host, t.orderingKey, t.attempts),
    index("fedify_queue_ordering").on(t.queue, t.orderingKey, t.id),
    index("fedify_queue_in_flight").on(t.queue, t.lockedUntil),
  ],
);

/**
 * Failed sign-ins per account and per client address (src/accounts/sign-in.ts,
 * through rate-limiter-flexible's Drizzle store), shared by every web process
 * on the database so that running several does not multiply the guesses allowed.
 */
export const signInLimits = sqliteTable("sign_in_limits", {
  key: text("key").primaryKey(),
  points: integer("points").notNull(),
  expire: integer("expire", { mode: "timestamp_ms" }),
});

/**
 * Leases on work that exactly one process may do at a time (the scheduled
 * jobs, src/app/job-leases.ts): a holder keeps its row by renewing it before
 * it expires; a process that dies loses it when it does.
 */
export const jobLeases = sqliteTable("job_leases", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  expiresAt: integer("expires_at", { mode: "timestamp_ms" }).notNull(),
});
