/**
 * Use cases of comparison tasks: stewards create them (from a version's
 * examples or given prompts and responses), members answer them, anyone
 * reads their results. Members of the task's community see results over
 * every answer; anyone else only over answers whose raters allowed them to
 * leave the community (consent `federate`).
 */
import { eq } from "drizzle-orm";
import { communities } from "../../db/schema.ts";
import { findCommunityById, getCommunity, type Community } from "../communities.ts";
import { InvalidInputError, NotFoundError } from "../errors.ts";
import { findVersionByIri, getPolicyById, versionContent } from "../policies/policies.ts";
import { aggregateClause, aggregateComparison, judgementFromRecord, type ClauseSummary, type ComparisonSummary } from "../preferences/aggregate.ts";
import type { Consent } from "../preferences/record.ts";
import {
  answerSchema,
  answerTask,
  answeredAmong,
  countUnanswered,
  createTasks,
  findAnswer,
  clauseName,
  getTask,
  legacyTitle,
  listTasks,
  listTasksPage,
  newTaskSchema,
  nextUnansweredTask,
  taskAnswers,
  tasksFromExamples,
  unknownClauseIds,
  type Answer,
  type ResultsAudience,
  type Task,
} from "../preferences/tasks.ts";
import { z } from "../zod.ts";
import type { AppContext } from "./context.ts";
import type { AnswerFields } from "./preferences.ts";
import { recordEffect } from "./outbox.ts";
import { datasetChanged, stewardOf } from "./preferences.ts";
import { assertMember, isMember, requireSignedIn, type Viewer } from "./permissions.ts";

export const NewTasksInput = z
  .object({
    community: z.string(),
    fromVersion: z.string().url().optional(),
    version: z.string().url().optional().openapi({ description: "A version IRI the given tasks speak to (their clause ids must be its clauses); no tasks are made from its examples" }),
    tasks: z.array(newTaskSchema).optional(),
  })
  .strict();
export type NewTasksInput = z.output<typeof NewTasksInput>;

export { answerSchema as AnswerInput };

export const TASKS_PER_PAGE = 20;

export const TaskListQuery = z.object({
  community: z.string(),
  page: z.coerce.number().int().min(1).default(1).openapi({ description: "1-based page number" }),
  perPage: z.coerce.number().int().min(1).max(100).default(TASKS_PER_PAGE),
  unanswered: z.enum(["true", "false"]).default("false").openapi({ description: "true: only open tasks you have not answered (signed in)" }),
});
export type TaskListQuery = z.output<typeof TaskListQuery>;

export const StatsQuery = z.object({ community: z.string().optional(), policy: z.coerce.number().int().positive().optional() });

export interface TaskView {
  id: number;
  community: string | null;
  title: string;
  policy: number | null;
  version: string | null;
  clauseIds: string[];
  prompt: { role: string; content: string }[];
  responses: { content: string }[];
  closed: boolean;
}

/** A task in a list: `answered` says whether the viewer answered it (null signed out). */
export type TaskListItem = TaskView & { answered: boolean | null };

export interface TaskList {
  tasks: TaskListItem[];
  page: number;
  perPage: number;
  /** Tasks matching the filter, on every page. */
  total: number;
  pages: number;
  unanswered: boolean;
  /** The first open task the viewer has not answered, for members; null when none is left or they cannot answer. */
  nextUnanswered: number | null;
  /** How many open tasks the viewer has not answered (members only; else null). */
  unansweredCount: number | null;
}

export interface CreatedTasks {
  created: TaskView[];
  /** Asked for again and already held: nothing was added for them. */
  existing: TaskView[];
}

export interface AnswerView extends AnswerFields {
  record: number;
}

export interface TaskResults {
  task: TaskView;
  audience: ResultsAudience;
  summary: ComparisonSummary;
}

export interface PreferenceStats {
  audience: ResultsAudience;
  minGroupSize: number;
  tasks: { task: TaskView; summary: ComparisonSummary }[];
  clauses: ({ clause: string } & ClauseSummary)[];
}

/** A refusal that names the field, as a validation failure does (the API lists it in `issues`, a form shows it beside the field). */
function fieldError(issues: { path: (string | number)[]; message: string }[]): z.ZodError {
  return new z.ZodError(issues.map((issue) => ({ code: "custom" as const, input: undefined, ...issue })));
}

/**
 * Creates tasks from a version's examples and/or given prompts and responses
 * (stewards). Idempotent: a task the community already holds (the same
 * prompt, responses and clauses of the same policy) is reported as existing.
 */
export function createPreferenceTasks(ctx: AppContext, viewer: Viewer, input: NewTasksInput): CreatedTasks {
  const community = stewardOf(ctx, viewer, input.community);
  if (!input.fromVersion && !input.tasks?.length) throw new InvalidInputError("Give fromVersion (a version IRI) or tasks.");
  if (input.fromVersion && input.version && input.fromVersion !== input.version) throw new InvalidInputError("Give fromVersion or version, not two different versions.");
  const versionIri = input.fromVersion ?? input.version;
  const version = versionIri ? findVersionByIri(ctx.db, versionIri) : undefined;
  if (versionIri && !version) throw fieldError([{ path: [input.fromVersion ? "fromVersion" : "version"], message: "is not a version held here" }]);
  if (version) {
    const content = versionContent(version);
    const issues = (input.tasks ?? []).flatMap((task, i) => {
      const unknown = unknownClauseIds(content, task.clauseIds);
      return unknown.length ? [{ path: ["tasks", i, "clauseIds"], message: `not clauses of that version: ${unknown.join(", ")}` }] : [];
    });
    if (issues.length) throw fieldError(issues);
  }
  const tasks = [...(version && input.fromVersion ? tasksFromExamples(versionContent(version)) : []), ...(input.tasks ?? [])];
  if (tasks.length === 0) throw new InvalidInputError("That version has no examples with two or more responses.");
  const { created, existing } = createTasks(ctx.db, community, { policyId: version?.policyId ?? null, versionIri: version?.iri ?? null }, tasks);
  return { created: created.map((task) => taskView(ctx, task)), existing: existing.map((task) => taskView(ctx, task)) };
}

/** A page of a community's tasks, optionally only those the viewer has not answered, and where their next unanswered task is. */
export function listCommunityTasks(ctx: AppContext, viewer: Viewer, query: TaskListQuery): TaskList {
  const community = getCommunity(ctx.db, query.community);
  const unanswered = query.unanswered === "true";
  if (unanswered) requireSignedIn(viewer);
  const { tasks, total } = listTasksPage(ctx.db, community, { page: query.page, perPage: query.perPage, unansweredBy: unanswered ? viewer!.id : undefined });
  const answered = viewer ? answeredAmong(ctx.db, viewer.id, tasks.map((task) => task.id)) : undefined;
  const answering = isMember(ctx.db, community, viewer);
  return {
    tasks: tasks.map((task) => ({ ...taskView(ctx, task), answered: answered ? answered.has(task.id) : null })),
    page: query.page,
    perPage: query.perPage,
    total,
    pages: Math.max(1, Math.ceil(total / query.perPage)),
    unanswered,
    nextUnanswered: answering ? (nextUnansweredTask(ctx.db, community, viewer!.id)?.id ?? null) : null,
    unansweredCount: answering ? countUnanswered(ctx.db, community, viewer!.id) : null,
  };
}

export interface TaskDetail extends TaskView {
  answer: AnswerView | null;
  /** The viewer's next open unanswered task of the community after this one (members only; null when none is left). */
  nextUnanswered: number | null;
}

/** One task, with the viewer's own answer to it (null when they have not answered, or are signed out) and their next unanswered task. */
export function taskWithAnswer(ctx: AppContext, viewer: Viewer, id: number): TaskDetail {
  const task = getTask(ctx.db, id);
  const community = findCommunityById(ctx.db, task.communityId);
  const next = viewer && community && isMember(ctx.db, community, viewer) ? nextUnansweredTask(ctx.db, community, viewer.id, task.id) : undefined;
  const mine = viewer ? findAnswer(ctx.db, task, viewer) : undefined;
  const answer = mine
    ? {
        record: mine.id,
        choice: mine.record.choice,
        ratings: mine.record.ratings,
        rationale: mine.record.rationale,
        groups: mine.record.groups,
        consent: mine.record.consent,
        updatedAt: mine.updatedAt.toISOString(),
      }
    : null;
  return { ...taskView(ctx, task), answer, nextUnanswered: next?.id ?? null };
}

/**
 * A member answers a task; answering again replaces their answer. When the
 * answer is (or was) shared with instances following the task's policy,
 * they hear that the dataset changed, in the same transaction.
 */
export function answerPreferenceTask(ctx: AppContext, viewer: Viewer, id: number, input: Answer): { task: number; raterId: string; choice: number | null; consent: Consent } {
  const task = getTask(ctx.db, id);
  const community = communityOfTask(ctx, task);
  const user = assertMember(ctx.db, community, viewer);
  const now = ctx.clock.now();
  return ctx.db.transaction(() => {
    const wasFederated = findAnswer(ctx.db, task, user)?.record.consent.federate ?? false;
    const record = answerTask(ctx.db, task, user, input, now);
    if (task.policyId !== null && (record.consent.federate || wasFederated)) recordEffect(ctx.db, datasetChanged(getPolicyById(ctx.db, task.policyId)), now);
    return { task: task.id, raterId: record.raterId, choice: record.choice, consent: record.consent };
  });
}

export function taskResults(ctx: AppContext, viewer: Viewer, id: number): TaskResults {
  const task = getTask(ctx.db, id);
  const audience = audienceOf(ctx, viewer, communityOfTask(ctx, task));
  return { task: taskView(ctx, task), audience, summary: summarise(ctx, task, audience) };
}

/** Per task and per clause results of a policy's tasks, or all of a community's. */
export function preferenceStats(ctx: AppContext, viewer: Viewer, query: z.output<typeof StatsQuery>): PreferenceStats {
  const policy = query.policy !== undefined ? getPolicyById(ctx.db, query.policy) : undefined;
  const community = query.community
    ? getCommunity(ctx.db, query.community)
    : policy?.communityId != null
      ? findCommunityById(ctx.db, policy.communityId)
      : undefined;
  if (!community) throw new InvalidInputError("Give a community, or a policy of a community of this instance.");
  const tasks = listTasks(ctx.db, community).filter((t) => query.policy === undefined || t.policyId === query.policy);
  const audience = audienceOf(ctx, viewer, community);
  const perTask = tasks.map((task) => ({ task: taskView(ctx, task), summary: summarise(ctx, task, audience) }));
  const clauses = new Map<string, ComparisonSummary[]>();
  for (const { task, summary } of perTask) {
    for (const clause of task.clauseIds) clauses.set(clause, [...(clauses.get(clause) ?? []), summary]);
  }
  return {
    audience,
    minGroupSize: minGroupSize(ctx, community.id),
    tasks: perTask,
    clauses: [...clauses].map(([clause, summaries]) => ({ clause, ...aggregateClause(summaries) })),
  };
}

// ---------------------------------------------------------------------------

function communityOfTask(ctx: AppContext, task: Task): Community {
  const community = findCommunityById(ctx.db, task.communityId);
  if (!community) throw new NotFoundError(`No task ${task.id}.`);
  return community;
}

/** Members (and admins) see every answer; anyone else only those allowed to leave the community. */
function audienceOf(ctx: AppContext, viewer: Viewer, community: Community): ResultsAudience {
  return isMember(ctx.db, community, viewer) ? "members" : "public";
}

function minGroupSize(ctx: AppContext, communityId: number): number {
  return ctx.db.select({ k: communities.minGroupSize }).from(communities).where(eq(communities.id, communityId)).get()?.k ?? 5;
}

function summarise(ctx: AppContext, task: Task, audience: ResultsAudience): ComparisonSummary {
  const judgements = taskAnswers(ctx.db, task, audience).map(({ record, breakdown }) => ({ ...judgementFromRecord(record), breakdown }));
  return aggregateComparison(judgements, { responseCount: task.responses.length, minGroupSize: minGroupSize(ctx, task.communityId) });
}

/** Clause names by version IRI (versions never change), for the titles of tasks made before titles named clauses. */
const clauseNames = new Map<string, Map<string, string>>();

function clauseNameIn(ctx: AppContext, versionIri: string, clauseId: string): string | undefined {
  let names = clauseNames.get(versionIri);
  if (!names) {
    const version = findVersionByIri(ctx.db, versionIri);
    if (!version) return undefined;
    names = new Map(versionContent(version).clauses.map((clause) => [clause.id, clauseName(clause)]));
    if (clauseNames.size >= 32) clauseNames.delete(clauseNames.keys().next().value!);
    clauseNames.set(versionIri, names);
  }
  return names.get(clauseId);
}

/** The task's title, with an older title's clause id replaced by the clause's name. */
function readableTitle(ctx: AppContext, task: Task): string {
  const legacy = legacyTitle(task);
  const name = legacy && clauseNameIn(ctx, task.versionIri!, legacy.clauseId);
  return legacy && name ? `${name}${legacy.rest}` : task.title;
}

function taskView(ctx: AppContext, task: Task): TaskView {
  return {
    id: task.id,
    community: findCommunityById(ctx.db, task.communityId)?.handle ?? null,
    title: readableTitle(ctx, task),
    policy: task.policyId,
    version: task.versionIri,
    clauseIds: task.clauseIds,
    prompt: task.prompt,
    responses: task.responses,
    closed: task.closedAt !== null,
  };
}
