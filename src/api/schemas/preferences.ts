/**
 * The JSON contract of preference data and comparison tasks: request
 * schemas (most live next to their use cases in src/app/preferences.ts and
 * src/app/preference-tasks.ts, since the web forms validate with them too)
 * and response schemas. The CLI and tests use the `z.infer` types below.
 */
import { z } from "@hono/zod-openapi";
import { consentSchema } from "../../preferences/record.ts";

export { ExportQuery, ImportExamplesInput, ImportQuery } from "../../app/preferences.ts";
export { AnswerInput, NewTasksInput, StatsQuery, TaskListQuery } from "../../app/preference-tasks.ts";

const Ratings = z.object({ scale: z.object({ min: z.number(), max: z.number() }), values: z.array(z.number()) });

export const ImportReport = z
  .object({
    read: z.number().int(),
    imported: z.number().int(),
    duplicates: z.number().int().openapi({ description: "Records already held (a re-import)" }),
    errors: z.array(z.object({ line: z.number().int(), error: z.string() })),
    stopped: z.boolean().openapi({ description: "The import stopped at the first bad line; then nothing was imported" }),
    consent: consentSchema,
    consentNote: z.string().optional().openapi({ description: "Why the records got this consent" }),
    source: z.string().optional().openapi({ description: "Source name recorded on each record" }),
  })
  .openapi("PreferenceImportReport");
export type ImportReport = z.infer<typeof ImportReport>;

export const ConsentResult = z.object({ id: z.number().int(), consent: consentSchema }).openapi("RecordConsent");
export type ConsentResult = z.infer<typeof ConsentResult>;

/** A member's answer as shown back to them: what they chose, why, and what they allowed. */
const answerFields = {
  choice: z.number().int().nullable(),
  ratings: Ratings.nullable(),
  rationale: z.string(),
  groups: z.array(z.string()),
  consent: consentSchema,
  updatedAt: z.string().datetime(),
};

export const MyRecord = z
  .object({
    id: z.number().int(),
    task: z.number().int().nullable(),
    taskTitle: z.string().nullable(),
    community: z.string(),
    ...answerFields,
  })
  .openapi("MyPreferenceRecord");
export type MyRecord = z.infer<typeof MyRecord>;

export const MirroredRecords = z
  .object({
    policy: z.string().url(),
    count: z.number().int(),
    records: z.array(z.object({ iri: z.string().url(), consent: consentSchema.nullable(), receivedAt: z.string().datetime() })),
  })
  .openapi("MirroredPreferenceRecords");
export type MirroredRecords = z.infer<typeof MirroredRecords>;

export const TaskView = z
  .object({
    id: z.number().int(),
    community: z.string().nullable(),
    title: z.string(),
    policy: z.number().int().nullable(),
    version: z.string().nullable(),
    clauseIds: z.array(z.string()),
    prompt: z.array(z.object({ role: z.string(), content: z.string() })),
    responses: z.array(z.object({ content: z.string() })),
    closed: z.boolean(),
  })
  .openapi("Task");
export type TaskView = z.infer<typeof TaskView>;

export const AnswerView = z.object({ record: z.number().int(), ...answerFields }).openapi("TaskAnswerView");

export const TaskDetail = TaskView.extend({
  answer: AnswerView.nullable(),
  nextUnanswered: z.number().int().nullable().openapi({ description: "Your next open task of the community you have not answered, after this one (members; null when none is left)" }),
}).openapi("TaskDetail");
export type TaskDetail = z.infer<typeof TaskDetail>;

export const CreatedTasks = z
  .object({
    created: z.array(TaskView),
    existing: z.array(TaskView).openapi({ description: "Tasks asked for that the community already held (the same prompt, responses and clauses of the same policy); nothing was added for them" }),
  })
  .openapi("CreatedTasks");
export type CreatedTasks = z.infer<typeof CreatedTasks>;

export const TaskList = z
  .object({
    tasks: z.array(TaskView.extend({ answered: z.boolean().nullable().openapi({ description: "Whether you answered it (null signed out)" }) })),
    page: z.number().int(),
    perPage: z.number().int(),
    total: z.number().int().openapi({ description: "Tasks matching the filter, on all pages" }),
    pages: z.number().int(),
    unanswered: z.boolean(),
    nextUnanswered: z.number().int().nullable().openapi({ description: "Your first open task you have not answered (members; null when none is left)" }),
    unansweredCount: z.number().int().nullable().openapi({ description: "How many open tasks you have not answered (members; else null)" }),
  })
  .openapi("TaskList");
export type TaskList = z.infer<typeof TaskList>;

export const AnswerResult = z
  .object({ task: z.number().int(), raterId: z.string(), choice: z.number().int().nullable(), consent: consentSchema })
  .openapi("TaskAnswerResult");
export type AnswerResult = z.infer<typeof AnswerResult>;

const Interval = z.object({ low: z.number(), high: z.number() });
const ResponseShare = z.object({ response: z.number().int(), votes: z.number(), share: z.number().nullable(), interval: Interval.nullable(), meanRating: z.number().nullable() });
const ShareStats = z.object({ n: z.number().int(), rated: z.number().int(), responses: z.array(ResponseShare) });
const Verdict = z.enum(["groups agree", "groups differ", "not enough data"]);
const ShareRange = z.object({ value: z.number(), lowest: z.object({ group: z.string(), share: z.number() }), highest: z.object({ group: z.string(), share: z.number() }) });

export const ComparisonSummary = z
  .object({
    responseCount: z.number().int(),
    confidence: z.number(),
    minGroupSize: z.number().int(),
    counts: z.object({ judgements: z.number().int(), raters: z.number().int(), duplicatesDropped: z.number().int(), withoutBreakdownConsent: z.number().int() }),
    overall: ShareStats,
    byGroup: z.array(ShareStats.extend({ group: z.string() })),
    suppressedGroups: z.number().int(),
    disagreement: z.object({
      method: z.literal("chi-square test of homogeneity (groups × responses) and range of the response-0 share"),
      groups: z.number().int(),
      range: ShareRange.nullable(),
      chiSquare: z.object({ statistic: z.number(), df: z.number(), pValue: z.number(), cramersV: z.number() }).nullable(),
      smallExpectedCounts: z.boolean(),
      verdict: Verdict,
      explanation: z.string(),
    }),
  })
  .openapi("ComparisonSummary");
export type ComparisonSummary = z.infer<typeof ComparisonSummary>;

const ClauseOutcome = z.object({ comparisons: z.number(), goodPreferred: z.number(), share: z.number().nullable(), interval: Interval.nullable(), meanGoodShare: z.number().nullable() });

export const ClauseStats = z
  .object({
    clause: z.string(),
    goodResponse: z.literal(0),
    confidence: z.number(),
    counts: z.object({ comparisons: z.number().int(), withoutJudgements: z.number().int() }),
    overall: ClauseOutcome,
    byGroup: z.array(ClauseOutcome.extend({ group: z.string() })),
    disagreement: z.object({
      method: z.literal("per-comparison chi-square tests, Bonferroni-corrected, and range of the groups' clause shares"),
      comparisons: z.object({ differ: z.number().int(), agree: z.number().int(), notEnoughData: z.number().int() }),
      range: ShareRange.nullable(),
      smallestPValue: z.number().nullable(),
      threshold: z.number().nullable(),
      verdict: Verdict,
      explanation: z.string(),
    }),
  })
  .openapi("ClauseStats");

const Audience = z.enum(["members", "public"]).openapi({ description: "members: every answer; public: only answers whose raters allowed them to leave the community" });

export const TaskResults = z.object({ task: TaskView, audience: Audience, summary: ComparisonSummary }).openapi("TaskResults");
export type TaskResults = z.infer<typeof TaskResults>;

export const PreferenceStats = z
  .object({
    audience: Audience,
    minGroupSize: z.number().int(),
    tasks: z.array(z.object({ task: TaskView, summary: ComparisonSummary })),
    clauses: z.array(ClauseStats),
  })
  .openapi("PreferenceStats");
export type PreferenceStats = z.infer<typeof PreferenceStats>;
