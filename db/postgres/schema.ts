/**
 * The Drizzle schema of a Fedalign instance on PostgreSQL: the same tables,
 * columns, keys, constraints and indexes as db/schema.ts (SQLite, the source
 * of truth), column for column, so that one domain code base reads and writes
 * the same TypeScript values on either. test/schema-drift.test.ts fails when
 * the two disagree; the type mappings it allows are listed there.
 *
 * The PostgreSQL way where it matters:
 * - epoch-millisecond Date columns are `timestamp with time zone`;
 * - boolean columns are `boolean`;
 * - JSON columns are `jsonb`, except those whose exact text must survive
 *   (signed documents, records served and bundled as they were written):
 *   those are `text` holding JSON (`jsonText` below), byte for byte what
 *   SQLite holds;
 * - integer ids are identity columns that accept explicit ids (so
 *   `fedalign admin migrate` copies them and resets the sequences);
 * - epoch-millisecond numbers of Fedify's stores are `bigint` (as numbers);
 * - the clause search index (FTS5 on SQLite, made by a hand-written
 *   migration) is a table with a generated `tsvector` and a GIN index.
 *
 * Migrations: `npm run db:generate:postgres` (drizzle.postgres.config.ts)
 * writes them to db/postgres/migrations; db/postgres/migrate.ts applies them.
 */
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  customType,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";
import {
  ACTOR_KINDS,
  FOLLOW_STATES,
  JOIN_POLICIES,
  JOIN_REQUEST_STATES,
  KEY_ALGORITHMS,
  MEMBER_ROLES,
  MOTIVATIONS,
  NOTIFICATION_KINDS,
  OFFER_STATES,
} from "../schema.ts";

/** A Date stored as `timestamp with time zone` (epoch milliseconds on SQLite). */
const ts = (name: string) => timestamp(name, { withTimezone: true, mode: "date" });

const createdAt = () => ts("created_at").notNull().defaultNow();

/** An id that PostgreSQL assigns, and that a copy from SQLite may set explicitly. */
const id = () => integer("id").primaryKey().generatedByDefaultAsIdentity();

/** Epoch milliseconds as a JavaScript number (beyond 32 bits). */
const epochMs = (name: string) => bigint(name, { mode: "number" });

/**
 * JSON kept as the exact text it was written as (`text`, not `jsonb`, which
 * would reorder keys and normalise numbers): for signed documents and records
 * that are served, hashed or bundled as stored. Same values as SQLite's
 * `text(..., { mode: "json" })`: written with JSON.stringify, read with JSON.parse.
 */
export const jsonText = customType<{ data: unknown; driverData: string }>({
  dataType: () => "text",
  toDriver: (value) => JSON.stringify(value),
  fromDriver: (value) => JSON.parse(value) as unknown,
});

/** A full-text document (generated from other columns). */
const tsvector = customType<{ data: string; driverData: string }>({ dataType: () => "tsvector" });

export const actors = pgTable("actors", {
  id: id(),
  identifier: text("identifier").notNull().unique(),
  kind: text("kind", { enum: ACTOR_KINDS }).notNull(),
  name: text("name").notNull(),
  summary: text("summary").notNull().default(""),
  manuallyApprovesFollowers: boolean("manually_approves_followers").notNull().default(false),
  createdAt: createdAt(),
});

export const actorKeys = pgTable(
  "actor_keys",
  {
    actorId: integer("actor_id")
      .notNull()
      .references(() => actors.id, { onDelete: "cascade" }),
    algorithm: text("algorithm", { enum: KEY_ALGORITHMS }).notNull(),
    publicJwk: jsonb("public_jwk").$type<JsonWebKey>().notNull(),
    privateJwk: jsonb("private_jwk").$type<JsonWebKey>().notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.actorId, t.algorithm] })],
);

export const users = pgTable("users", {
  id: id(),
  actorId: integer("actor_id")
    .notNull()
    .unique()
    .references(() => actors.id, { onDelete: "cascade" }),
  username: text("username").notNull().unique(),
  passwordHash: text("password_hash").notNull(),
  isAdmin: boolean("is_admin").notNull().default(false),
  createdAt: createdAt(),
});

export const communities = pgTable("communities", {
  id: id(),
  actorId: integer("actor_id")
    .notNull()
    .unique()
    .references(() => actors.id, { onDelete: "cascade" }),
  handle: text("handle").notNull().unique(),
  minGroupSize: integer("min_group_size").notNull().default(5),
  decisionRules: jsonb("decision_rules").$type<Record<string, unknown>>().notNull().default({}),
  adoptMode: text("adopt_mode", { enum: ["draft", "publish"] }).notNull().default("draft"),
  partners: jsonb("partners").$type<string[]>().notNull().default([]),
  joinPolicy: text("join_policy", { enum: JOIN_POLICIES }).notNull().default("approval"),
  createdAt: createdAt(),
});

export const joinRequests = pgTable(
  "join_requests",
  {
    id: id(),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    message: text("message").notNull().default(""),
    state: text("state", { enum: JOIN_REQUEST_STATES }).notNull().default("pending"),
    createdAt: ts("created_at").notNull(),
    decidedAt: ts("decided_at"),
    decidedBy: integer("decided_by").references(() => users.id, { onDelete: "set null" }),
  },
  (t) => [uniqueIndex("join_requests_person").on(t.communityId, t.userId), index("join_requests_state").on(t.communityId, t.state)],
);

export const communityInvites = pgTable(
  "community_invites",
  {
    id: id(),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    tokenHash: text("token_hash").notNull().unique(),
    createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
    maxUses: integer("max_uses"),
    uses: integer("uses").notNull().default(0),
    expiresAt: ts("expires_at").notNull(),
    revokedAt: ts("revoked_at"),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [index("community_invites_community").on(t.communityId)],
);

export const memberships = pgTable(
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

export const apiTokens = pgTable("api_tokens", {
  id: id(),
  userId: integer("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  label: text("label").notNull(),
  tokenHash: text("token_hash").notNull().unique(),
  createdAt: createdAt(),
  lastUsedAt: ts("last_used_at"),
  revokedAt: ts("revoked_at"),
});

export const sessions = pgTable("sessions", {
  idHash: text("id_hash").primaryKey(),
  userId: integer("user_id")
    .notNull()
    .references(() => users.id, { onDelete: "cascade" }),
  csrfToken: text("csrf_token").notNull(),
  createdAt: createdAt(),
  expiresAt: ts("expires_at").notNull(),
});

export const federatedActors = pgTable("federated_actors", {
  id: id(),
  iri: text("iri").notNull().unique(),
  type: text("type").notNull(),
  handle: text("handle"),
  name: text("name"),
  summary: text("summary"),
  inboxUrl: text("inbox_url").notNull(),
  sharedInboxUrl: text("shared_inbox_url"),
  url: text("url"),
  fetchedAt: ts("fetched_at").notNull(),
});

export const follows = pgTable(
  "follows",
  {
    id: id(),
    followerIri: text("follower_iri").notNull(),
    followeeIri: text("followee_iri").notNull(),
    activityIri: text("activity_iri").notNull(),
    state: text("state", { enum: FOLLOW_STATES }).notNull(),
    createdAt: createdAt(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("follows_pair").on(t.followerIri, t.followeeIri),
    index("follows_followee").on(t.followeeIri, t.state),
    index("follows_activity").on(t.activityIri),
  ],
);

export const undoneFollows = pgTable(
  "undone_follows",
  {
    id: id(),
    followIri: text("follow_iri").notNull(),
    followerIri: text("follower_iri").notNull(),
    expiresAt: ts("expires_at").notNull(),
  },
  (t) => [uniqueIndex("undone_follows_follow").on(t.followIri, t.followerIri), index("undone_follows_expiry").on(t.expiresAt)],
);

export const outbox = pgTable(
  "outbox",
  {
    id: id(),
    kind: text("kind").notNull(),
    payload: jsonb("payload").$type<Record<string, unknown>>().notNull(),
    createdAt: ts("created_at").notNull(),
    dueAt: ts("due_at").notNull(),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    dispatchedAt: ts("dispatched_at"),
    abandonedAt: ts("abandoned_at"),
  },
  (t) => [index("outbox_pending").on(t.dispatchedAt, t.abandonedAt, t.dueAt)],
);

export const policies = pgTable(
  "policies",
  {
    id: id(),
    iri: text("iri").notNull().unique(),
    ownerIri: text("owner_iri").notNull(),
    communityId: integer("community_id").references(() => communities.id, { onDelete: "cascade" }),
    slug: text("slug").notNull(),
    title: text("title").notNull(),
    summary: text("summary").notNull().default(""),
    licence: text("licence").notNull(),
    draft: jsonb("draft").$type<Record<string, unknown>>(),
    draftUpdatedAt: ts("draft_updated_at"),
    forkedFromIri: text("forked_from_iri"),
    forkedFromHash: text("forked_from_hash"),
    upstreamIri: text("upstream_iri"),
    mergeBaseIri: text("merge_base_iri"),
    pendingMergeIri: text("pending_merge_iri"),
    createdAt: createdAt(),
  },
  (t) => [uniqueIndex("policies_community_slug").on(t.communityId, t.slug), index("policies_owner").on(t.ownerIri)],
);

export const policyVersions = pgTable(
  "policy_versions",
  {
    id: id(),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    iri: text("iri").notNull().unique(),
    number: integer("number").notNull(),
    contentHash: text("content_hash").notNull(),
    changelog: text("changelog").notNull().default(""),
    /** The signed version document: its exact text, never re-serialised. */
    document: jsonText("document").$type<Record<string, unknown>>().notNull(),
    publishedAt: ts("published_at").notNull(),
    receivedAt: ts("received_at").notNull(),
    retractedAt: ts("retracted_at"),
  },
  (t) => [uniqueIndex("policy_versions_number").on(t.policyId, t.number)],
);

export const policyForks = pgTable(
  "policy_forks",
  {
    id: id(),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    forkIri: text("fork_iri").notNull().unique(),
    forkOwnerIri: text("fork_owner_iri").notNull(),
    forkedFromIri: text("forked_from_iri").notNull(),
    receivedAt: ts("received_at").notNull(),
  },
  (t) => [index("policy_forks_policy").on(t.policyId)],
);

export const annotations = pgTable(
  "annotations",
  {
    id: id(),
    iri: text("iri").notNull().unique(),
    authorIri: text("author_iri").notNull(),
    policyIri: text("policy_iri").notNull(),
    versionIri: text("version_iri").notNull(),
    clauseId: text("clause_id"),
    motivation: text("motivation", { enum: MOTIVATIONS }).notNull(),
    text: text("text").notNull(),
    selector: jsonb("selector").$type<{ exact: string; prefix: string; suffix: string }>(),
    suggestedText: text("suggested_text"),
    /** The Note as received or published (served and re-checked): its exact text. */
    note: jsonText("note").$type<Record<string, unknown>>().notNull(),
    local: boolean("local").notNull().default(false),
    published: ts("published").notNull(),
    updatedAt: ts("updated_at"),
    hiddenAt: ts("hidden_at"),
    receivedAt: ts("received_at").notNull(),
  },
  (t) => [index("annotations_target").on(t.policyIri, t.clauseId), index("annotations_author").on(t.authorIri)],
);

export const blocks = pgTable(
  "blocks",
  {
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    target: text("target").notNull(),
    kind: text("kind", { enum: ["actor", "instance"] }).notNull(),
    createdAt: createdAt(),
  },
  (t) => [primaryKey({ columns: [t.communityId, t.target] })],
);

export const offers = pgTable(
  "offers",
  {
    id: id(),
    iri: text("iri").notNull().unique(),
    direction: text("direction", { enum: ["incoming", "outgoing"] }).notNull(),
    targetIri: text("target_iri").notNull(),
    originIri: text("origin_iri").notNull(),
    actorIri: text("actor_iri").notNull(),
    changes: jsonb("changes").$type<Record<string, unknown>>().notNull(),
    message: text("message").notNull().default(""),
    state: text("state", { enum: OFFER_STATES }).notNull().default("pending"),
    reason: text("reason"),
    createdAt: createdAt(),
    decidedAt: ts("decided_at"),
  },
  (t) => [index("offers_target").on(t.targetIri, t.state)],
);

export const preferenceTasks = pgTable(
  "preference_tasks",
  {
    id: id(),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    policyId: integer("policy_id").references(() => policies.id, { onDelete: "set null" }),
    versionIri: text("version_iri"),
    clauseIds: jsonb("clause_ids").$type<string[]>().notNull(),
    title: text("title").notNull().default(""),
    prompt: jsonb("prompt").$type<{ role: string; content: string }[]>().notNull(),
    responses: jsonb("responses").$type<{ content: string }[]>().notNull(),
    taskKey: text("task_key"),
    createdAt: createdAt(),
    closedAt: ts("closed_at"),
  },
  (t) => [index("preference_tasks_community").on(t.communityId), uniqueIndex("preference_tasks_community_key").on(t.communityId, t.taskKey)],
);

export const preferenceRecords = pgTable(
  "preference_records",
  {
    id: id(),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    policyId: integer("policy_id").references(() => policies.id, { onDelete: "set null" }),
    dedupKey: text("dedup_key").notNull(),
    /** The record as written (served in datasets and bundles, whose file hashes depend on its key order). */
    record: jsonText("record").$type<Record<string, unknown>>().notNull(),
    raterId: text("rater_id").notNull(),
    consentTrain: boolean("consent_train").notNull(),
    consentFederate: boolean("consent_federate").notNull(),
    consentBreakdown: boolean("consent_breakdown").notNull(),
    sourceName: text("source_name"),
    taskId: integer("task_id").references(() => preferenceTasks.id, { onDelete: "cascade" }),
    userId: integer("user_id").references(() => users.id, { onDelete: "set null" }),
    createdAt: ts("created_at").notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [
    index("preference_records_policy").on(t.policyId, t.consentTrain),
    index("preference_records_community").on(t.communityId, t.id),
    uniqueIndex("preference_records_task_user").on(t.taskId, t.userId),
    index("preference_records_federated").on(t.policyId, t.consentFederate, t.id),
    uniqueIndex("preference_records_community_dedup").on(t.communityId, t.dedupKey),
  ],
);

export const mirroredPreferences = pgTable(
  "mirrored_preferences",
  {
    id: id(),
    iri: text("iri").notNull().unique(),
    policyIri: text("policy_iri").notNull(),
    /** As published in the other instance's dataset: its exact text, like preference_records.record. */
    record: jsonText("record").$type<Record<string, unknown>>().notNull(),
    consentTrain: boolean("consent_train").notNull(),
    consentBreakdown: boolean("consent_breakdown").notNull(),
    receivedAt: ts("received_at").notNull(),
  },
  (t) => [index("mirrored_preferences_policy").on(t.policyIri)],
);

export const preferenceImportStaging = pgTable(
  "preference_import_staging",
  {
    id: id(),
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
    createdAt: epochMs("created_at").notNull(),
  },
  (t) => [index("preference_import_staging_import").on(t.importId)],
);

export const proposals = pgTable(
  "proposals",
  {
    id: id(),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    authorId: integer("author_id").references(() => users.id, { onDelete: "set null" }),
    title: text("title").notNull(),
    summary: text("summary").notNull().default(""),
    changes: jsonb("changes").$type<Record<string, unknown>>().notNull(),
    baseVersionIri: text("base_version_iri").notNull(),
    level: text("level").notNull(),
    openedAt: ts("opened_at").notNull(),
    closesAt: ts("closes_at").notNull(),
    state: text("state", { enum: ["open", "adopted", "rejected"] }).notNull().default("open"),
    tally: jsonb("tally").$type<Record<string, unknown>>(),
    closedAt: ts("closed_at"),
    resultVersionIri: text("result_version_iri"),
    offerIri: text("offer_iri"),
  },
  (t) => [index("proposals_policy").on(t.policyId, t.state)],
);

export const proposalDrafts = pgTable(
  "proposal_drafts",
  {
    id: id(),
    policyId: integer("policy_id")
      .notNull()
      .references(() => policies.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    baseVersionIri: text("base_version_iri").notNull(),
    changes: jsonb("changes").$type<Record<string, unknown>>().notNull(),
    updatedAt: ts("updated_at").notNull(),
  },
  (t) => [uniqueIndex("proposal_drafts_policy_user").on(t.policyId, t.userId)],
);

export const remoteProposals = pgTable(
  "remote_proposals",
  {
    id: id(),
    iri: text("iri").notNull().unique(),
    policyIri: text("policy_iri").notNull(),
    ownerIri: text("owner_iri").notNull(),
    name: text("name").notNull(),
    contentHtml: text("content_html").notNull().default(""),
    endTime: ts("end_time"),
    closedAt: ts("closed_at"),
    counts: jsonb("counts").$type<Record<string, number>>().notNull(),
    voters: integer("voters"),
    receivedAt: ts("received_at").notNull(),
  },
  (t) => [index("remote_proposals_policy").on(t.policyIri)],
);

export const proposalVotes = pgTable(
  "proposal_votes",
  {
    proposalId: integer("proposal_id")
      .notNull()
      .references(() => proposals.id, { onDelete: "cascade" }),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    value: text("value", { enum: ["yes", "no", "abstain", "block"] }).notNull(),
    at: ts("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.userId] })],
);

export const partnerVotes = pgTable(
  "partner_votes",
  {
    proposalId: integer("proposal_id")
      .notNull()
      .references(() => proposals.id, { onDelete: "cascade" }),
    actorIri: text("actor_iri").notNull(),
    value: text("value", { enum: ["yes", "no", "abstain", "block"] }).notNull(),
    at: ts("at").notNull(),
  },
  (t) => [primaryKey({ columns: [t.proposalId, t.actorIri] })],
);

export const sentVotes = pgTable(
  "sent_votes",
  {
    id: id(),
    activityIri: text("activity_iri").notNull().unique(),
    noteIri: text("note_iri").notNull().unique(),
    voterIri: text("voter_iri").notNull(),
    proposalIri: text("proposal_iri").notNull(),
    ownerIri: text("owner_iri").notNull(),
    value: text("value", { enum: ["yes", "no", "abstain", "block"] }).notNull(),
    state: text("state", { enum: ["sent", "refused"] }).notNull().default("sent"),
    reason: text("reason"),
    sentAt: ts("sent_at").notNull(),
    answeredAt: ts("answered_at"),
  },
  (t) => [index("sent_votes_voter").on(t.voterIri, t.proposalIri)],
);

export const conversations = pgTable(
  "conversations",
  {
    id: id(),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    source: text("source", { enum: ["local", "polis"] }).notNull(),
    topic: text("topic"),
    url: text("url"),
    description: text("description"),
    summary: jsonb("summary").$type<[string, string][]>(),
    createdAt: ts("created_at").notNull(),
  },
  (t) => [uniqueIndex("conversations_name").on(t.communityId, t.name)],
);

export const statements = pgTable(
  "statements",
  {
    id: id(),
    communityId: integer("community_id")
      .notNull()
      .references(() => communities.id, { onDelete: "cascade" }),
    conversationId: integer("conversation_id").references(() => conversations.id, { onDelete: "cascade" }),
    externalId: text("external_id"),
    clauseId: text("clause_id"),
    body: text("body").notNull(),
    author: text("author").notNull(),
    moderation: text("moderation", { enum: ["accepted", "pending", "rejected"] }).notNull().default("pending"),
    polisModerated: integer("polis_moderated"),
    createdAt: ts("created_at"),
  },
  (t) => [uniqueIndex("statements_external").on(t.conversationId, t.externalId), index("statements_community").on(t.communityId)],
);

export const statementVotes = pgTable(
  "statement_votes",
  {
    statementId: integer("statement_id")
      .notNull()
      .references(() => statements.id, { onDelete: "cascade" }),
    participant: text("participant").notNull(),
    value: integer("value").notNull(),
    at: ts("at"),
  },
  (t) => [primaryKey({ columns: [t.statementId, t.participant] })],
);

export const conversationParticipants = pgTable(
  "conversation_participants",
  {
    conversationId: integer("conversation_id")
      .notNull()
      .references(() => conversations.id, { onDelete: "cascade" }),
    participant: text("participant").notNull(),
    xid: text("xid"),
    polisGroup: text("polis_group"),
  },
  (t) => [primaryKey({ columns: [t.conversationId, t.participant] })],
);

export const notifications = pgTable(
  "notifications",
  {
    id: id(),
    userId: integer("user_id")
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    kind: text("kind", { enum: NOTIFICATION_KINDS }).notNull(),
    subjectIri: text("subject_iri").notNull(),
    actorIri: text("actor_iri"),
    text: text("text").notNull(),
    url: text("url").notNull(),
    createdAt: ts("created_at").notNull(),
    readAt: ts("read_at"),
  },
  (t) => [uniqueIndex("notifications_subject").on(t.userId, t.kind, t.subjectIri), index("notifications_user").on(t.userId, t.readAt, t.id)],
);

export const settings = pgTable("settings", {
  key: text("key").primaryKey(),
  value: jsonb("value").notNull(),
});

export const invites = pgTable("invites", {
  id: id(),
  code: text("code").notNull().unique(),
  createdBy: integer("created_by").references(() => users.id, { onDelete: "set null" }),
  maxUses: integer("max_uses"),
  uses: integer("uses").notNull().default(0),
  expiresAt: ts("expires_at"),
  revokedAt: ts("revoked_at"),
  createdAt: createdAt(),
});

/** Failed sign-ins, shared by every web process (src/accounts/sign-in.ts). */
export const signInLimits = pgTable("sign_in_limits", {
  key: text("key").primaryKey(),
  points: integer("points").notNull(),
  expire: ts("expire"),
});

/** Leases on work exactly one process may do at a time (src/app/job-leases.ts). */
export const jobLeases = pgTable("job_leases", {
  name: text("name").primaryKey(),
  holder: text("holder").notNull(),
  expiresAt: ts("expires_at").notNull(),
});

/** Fedify's key-value store. Keys are JSON arrays; expiry in epoch ms. */
export const fedifyKv = pgTable(
  "fedify_kv",
  {
    key: text("key").primaryKey(),
    value: text("value").notNull(),
    expiresAt: epochMs("expires_at"),
  },
  (t) => [index("fedify_kv_expires").on(t.expiresAt)],
);

/** Fedify's message queue; times in epoch ms. A high-churn table, so a 64-bit id. */
export const fedifyQueue = pgTable(
  "fedify_queue",
  {
    id: bigint("id", { mode: "number" }).primaryKey().generatedByDefaultAsIdentity(),
    queue: text("queue").notNull().default("default"),
    message: text("message").notNull(),
    orderingKey: text("ordering_key"),
    deliverAt: epochMs("deliver_at").notNull(),
    lockedUntil: epochMs("locked_until"),
    attempts: integer("attempts").notNull().default(0),
    lastError: text("last_error"),
    createdAt: epochMs("created_at").notNull(),
    host: text("host"),
  },
  (t) => [
    index("fedify_queue_claim").on(t.queue, t.deliverAt, t.id, t.lockedUntil, t.host, t.orderingKey, t.attempts),
    index("fedify_queue_ordering").on(t.queue, t.orderingKey, t.id),
    index("fedify_queue_in_flight").on(t.queue, t.lockedUntil),
  ],
);

/**
 * The clause search index (src/policies/search.ts; FTS5 table `clause_search`
 * on SQLite, made by migration 0019 outside Drizzle's schema): the same
 * columns, and a generated, weighted `tsvector` with a GIN index (title
 * weighs most, then the body, then examples, like SQLite's bm25 weights).
 */
export const clauseSearch = pgTable(
  "clause_search",
  {
    policyId: integer("policy_id").notNull(),
    versionId: integer("version_id").notNull(),
    clauseId: text("clause_id").notNull(),
    title: text("title").notNull(),
    body: text("body").notNull(),
    examples: text("examples").notNull(),
    document: tsvector("document")
      .notNull()
      .generatedAlwaysAs(
        sql`setweight(to_tsvector('english'::regconfig, "title"), 'A') || setweight(to_tsvector('english'::regconfig, "body"), 'B') || setweight(to_tsvector('english'::regconfig, "examples"), 'C')`,
      ),
  },
  (t) => [index("clause_search_policy").on(t.policyId), index("clause_search_document").using("gin", t.document)],
);
