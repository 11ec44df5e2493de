/**
 * Response schemas of the participation API (proposals, votes, decision
 * rules, offers, statements, opinions). The request schemas live next to
 * their use cases in src/app/ (the web forms validate with them too) and are
 * re-exported here. The CLI and tests use the inferred types.
 */
import { z } from "@hono/zod-openapi";
import { decisionRuleSchema, THRESHOLDS, VOTE_VALUES } from "../../participation/decision.ts";
import { changeSetSchema } from "../../policies/changeset.ts";

export { DecisionRulesInput, NewProposalInput, RemoteVoteInput, VoteInput, type NewProposal } from "../../app/proposals.ts";
export { OfferDecisionInput, OfferRequest } from "../../app/offers.ts";
export { ModerationInput, NewStatementInput, ScopeQuery, StatementImportInput, StatementVoteInput } from "../../app/statements.ts";

const Counts = z.object({ yes: z.number().int(), no: z.number().int(), abstain: z.number().int(), block: z.number().int() });

export const ProposalView = z
  .object({
    id: z.number().int(),
    iri: z.string().url(),
    policy: z.string().url(),
    policyId: z.number().int(),
    community: z.string(),
    title: z.string(),
    summary: z.string(),
    changes: z.string().openapi({ description: "The changes in words" }),
    level: z.string(),
    baseVersion: z.string().url(),
    openedAt: z.string().datetime(),
    closesAt: z.string().datetime(),
    state: z.enum(["open", "adopted", "rejected"]),
    tally: z.object({
      state: z.string(),
      reason: z.string(),
      counts: Counts,
      voters: z.number().int(),
      members: z.number().int(),
      notApplied: z.array(z.string()).optional().openapi({ description: "Adopted, but these changes no longer applied to the draft" }),
    }),
    description: z.string(),
    resultVersion: z.string().url().nullable(),
    rule: z
      .object({
        level: z.string(),
        quorum: z.number().openapi({ description: "Share of the members who must vote, from 0 to 1 (0.3 = 30%)" }),
        threshold: z.string().openapi({ description: "The threshold in words" }),
        blocks: z.boolean(),
        minOpenHours: z.number(),
        quorumNeeded: z.number().int(),
      })
      .openapi({ description: "The rule that decides it (the strictest level touched, with the community's overrides)" }),
    effectiveClosesAt: z.string().datetime().openapi({ description: "When voting actually closes: the later of closesAt and the minimum open time" }),
    myVote: z.enum(VOTE_VALUES).nullable().optional().openapi({ description: "Signed in: your vote" }),
  })
  .openapi("Proposal");
export type ProposalView = z.infer<typeof ProposalView>;

export const SentVoteView = z
  .object({
    proposal: z.string().url(),
    value: z.string(),
    state: z.enum(["sent", "refused"]),
    reason: z.string().nullable(),
    sentAt: z.string().datetime(),
    answeredAt: z.string().datetime().nullable(),
  })
  .openapi("SentVote");
export type SentVoteView = z.infer<typeof SentVoteView>;

export const DecisionRulesView = z
  .object({
    rules: z.record(z.string(), z.unknown()).openapi({ description: "The community's overrides per authority level, as set" }),
    effective: z.record(z.string(), decisionRuleSchema).openapi({ description: "The rule in force per authority level" }),
    adoptMode: z.enum(["draft", "publish"]),
    partners: z.array(z.string()),
  })
  .openapi("DecisionRules");
export type DecisionRulesView = z.infer<typeof DecisionRulesView>;

export const OfferView = z
  .object({
    iri: z.string().url(),
    direction: z.enum(["incoming", "outgoing"]),
    state: z.enum(["pending", "accepted", "rejected"]),
    reason: z.string().nullable(),
    target: z.string().url(),
    origin: z.string().url(),
    from: z.string().url(),
    message: z.string(),
    summary: z.string(),
    changes: changeSetSchema,
    preview: z
      .object({
        conflicts: z.array(z.object({ id: z.string(), reason: z.string() })),
        diff: z.custom<import("../../policies/diff.ts").PolicyDiff>().openapi({ type: "object", description: "The diff the offer would make to the draft (see GET /policies/{id}/diff)" }),
      })
      .nullable(),
    createdAt: z.string().datetime(),
    decidedAt: z.string().datetime().nullable(),
  })
  .openapi("Offer");
export type OfferView = z.infer<typeof OfferView>;

export const ImportResult = z.object({ conversation: z.string(), created: z.boolean(), statements: z.number(), votes: z.number(), participants: z.number() }).openapi("StatementImportResult");
export type StatementImportResult = z.infer<typeof ImportResult>;

export const ConversationView = z
  .object({ name: z.string(), source: z.string(), topic: z.string().nullable(), url: z.string().nullable(), description: z.string().nullable() })
  .openapi("Conversation");
export type ConversationView = z.infer<typeof ConversationView>;

export const StatementView = z
  .object({
    id: z.number().int(),
    statement: z.string().openapi({ description: "The Polis id, or f<id> for a statement submitted here" }),
    conversation: z.string().optional(),
    body: z.string(),
    author: z.string(),
    clauseId: z.string().nullable(),
    moderation: z.string(),
    agrees: z.number().int(),
    disagrees: z.number().int(),
    passes: z.number().int(),
    myVote: z.enum(["agree", "disagree", "pass"]).nullable().optional(),
  })
  .openapi("Statement");
export type StatementView = z.infer<typeof StatementView>;

export const SubmittedStatement = z.object({ id: z.number().int(), body: z.string(), moderation: z.string() }).openapi("SubmittedStatement");
export type SubmittedStatement = z.infer<typeof SubmittedStatement>;
export const ModeratedStatement = z.object({ id: z.number().int(), moderation: z.string() }).openapi("ModeratedStatement");
export const RecordedStatementVote = z.object({ id: z.number().int(), recorded: z.enum(["agree", "disagree", "pass"]) }).openapi("RecordedStatementVote");

const PolisExportConversation = z
  .object({
    conversation: z.string(),
    summary: z.record(z.string(), z.string()),
    statements: z.array(
      z.object({ id: z.string(), author: z.string(), body: z.string(), moderated: z.number().int(), agrees: z.number().int(), disagrees: z.number().int(), timestamp: z.number().optional() }),
    ),
    votes: z.array(z.object({ participant: z.string(), statement: z.string(), value: z.union([z.literal(1), z.literal(-1), z.literal(0)]), timestamp: z.number().optional() })),
    participants: z.array(z.object({ id: z.string(), group: z.string().nullable(), xid: z.string().nullable() })),
  })
  .openapi("PolisExport");
export const StatementExport = z.union([PolisExportConversation, z.object({ conversations: z.array(PolisExportConversation) })]).openapi("StatementExport");
export type StatementExport = z.infer<typeof StatementExport>;

const StatementLabel = { statement: z.string(), body: z.string(), conversation: z.string().optional() };
const GroupSupport = z.object({
  group: z.number().int(),
  agree: z.number().int(),
  disagree: z.number().int(),
  pass: z.number().int(),
  n: z.number().int(),
  agreeShare: z.number(),
  disagreeShare: z.number(),
});

export const OpinionsView = z
  .object({
    conversations: z.array(z.string()),
    participants: z.number().int(),
    k: z.number().int().optional(),
    silhouettes: z.array(z.object({ k: z.number().int(), silhouette: z.number() })).optional(),
    kSelection: z
      .union([
        z.object({ method: z.literal("silhouette") }),
        z.object({ method: z.literal("stability"), foldKs: z.array(z.number().int()) }),
        z.object({ method: z.literal("history"), recomputations: z.number().int(), lastBestK: z.number().int(), runsInARow: z.number().int() }),
      ])
      .optional()
      .openapi({ description: '"silhouette"; "stability" with the best k of each leave-one-fold-out run when k was a close call; or "history" (Polis\' k smoother replayed over recomputations)' }),
    baseClusters: z.number().int().optional(),
    snapshotLimits: z.array(z.string()).optional().openapi({ description: "What this snapshot cannot reproduce of Polis' history-dependent computation" }),
    groups: z.array(z.object({ id: z.number().int(), size: z.number().int() })),
    excluded: z.array(z.string()).optional(),
    projection: z.array(z.object({ participant: z.string(), x: z.number(), y: z.number(), group: z.number().int() })),
    statements: z.array(z.object({ ...StatementLabel, id: z.number().int(), consensus: z.number(), groups: z.array(GroupSupport) })),
    consensus: z.array(z.object({ ...StatementLabel, consensus: z.number() })),
    bridging: z.array(z.object({ ...StatementLabel, intercept: z.number(), factor: z.number(), n: z.number().int() })),
  })
  .openapi("Opinions");
export type OpinionsView = z.infer<typeof OpinionsView>;

export { THRESHOLDS };
