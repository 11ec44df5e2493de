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
import { first } from "../../db/client.ts";

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
export async function createPreferenceTasks(ctx: AppContext, viewer: Viewer, input: NewTasksInput): Promise<CreatedTasks> {
  const community = await stewardOf(ctx, viewer, input.community);
  if (!input.fromVersion && !input.tasks?.length) throw new InvalidInputError("Give fromVersion (a version IRI) or tasks.");
  if (input.fromVersion && input.version && input.fromVersion !== input.version) throw new InvalidInputError("Give fromVersion or version, not two different versions.");
  const versionIri = input.fromVersion ?? input.version;
  const version = versionIri ? await findVersionByIri(ctx.db, versionIri) : undefined;
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
  const { created, existing } = await createTasks(ctx.db, community, { policyId: version?.policyId ?? null, versionIri: version?.iri ?? null }, tasks);
  return {
    created: await Promise.all(created.map((task) => taskView(ctx, task))),
    existing: await Promise.all(existing.map((task) => taskView(ctx, task))),
  };
}

/** A page of a community's tasks, optionally only those the viewer has not answered, and where their next unanswered task is. */
export async function listCommunityTasks(ctx: AppContext, viewer: Viewer, query: TaskListQuery): Promise<TaskList> {
  const community = await getCommunity(ctx.db, query.community);
  const unanswered = query.unanswered === "true";
  if (unanswered) requireSignedIn(viewer);
  const { tasks, total } = await listTasksPage(ctx.db, community, { page: query.page, perPage: query.perPage, unansweredBy: unanswered ? viewer!.id : undefined });
  const answered = viewer ? await answeredAmong(ctx.db, viewer.id, tasks.map((task) => task.id)) : undefined;
  const answering = await isMember(ctx.db, community, viewer);
  return {
    tasks: await Promise.all(tasks.map(async (task) => ({ ...(await taskView(ctx, task)), answered: answered ? answered.has(task.id) : null }))),
    page: query.page,
    perPage: query.perPage,
    total,
    pages: Math.max(1, Math.ceil(total / query.perPage)),
    unanswered,
    nextUnanswered: answering ? ((await nextUnansweredTask(ctx.db, community, viewer!.id))?.id ?? null) : null,
    unansweredCount: answering ? await countUnanswered(ctx.db, community, viewer!.id) : null,
  };
}

export interface TaskDetail extends TaskView {
  answer: AnswerView | null;
  /** The viewer's next open unanswered task of the community after this one (members only; null when none is left). */
  nextUnanswered: number | null;
}

/** One task, with the viewer's own answer to it (null when they have not answered, or are signed out) and their next unanswered task. */
export async function taskWithAnswer(ctx: AppContext, viewer: Viewer, id: number): Promise<TaskDetail> {
  const task = await getTask(ctx.db, id);
  const community = await findCommunityById(ctx.db, task.communityId);
  const next = viewer && community && await isMember(ctx.db, community, viewer) ? await nextUnansweredTask(ctx.db, community, viewer.id, task.id) : undefined;
  const mine = viewer ? await findAnswer(ctx.db, task, viewer) : undefined;
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
  return { ...await taskView(ctx, task), answer, nextUnanswered: next?.id ?? null };
}

/**
 * A member answers a task; answering again replaces their answer. When the
 * answer is (or was) shared with instances following the task's policy,
 * they hear that the dataset changed, in the same transaction.
 */
export async function answerPreferenceTask(ctx: AppContext, viewer: Viewer, id: number, input: Answer): Promise<{ task: number; raterId: string; choice: number | null; consent: Consent }> {
  const task = await getTask(ctx.db, id);
  const community = await communityOfTask(ctx, task);
  const user = await assertMember(ctx.db, community, viewer);
  const now = ctx.clock.now();
  return await ctx.db.transaction(async () => {
    const wasFederated = (await findAnswer(ctx.db, task, user))?.record.consent.federate ?? false;
    const record = await answerTask(ctx.db, task, user, input, now);
    if (task.policyId !== null && (record.consent.federate || wasFederated)) await recordEffect(ctx.db, datasetChanged(await getPolicyById(ctx.db, task.policyId)), now);
    return { task: task.id, raterId: record.raterId, choice: record.choice, consent: record.consent };
  });
}

export async function taskResults(ctx: AppContext, viewer: Viewer, id: number): Promise<TaskResults> {
  const task = await getTask(ctx.db, id);
  const audience = await audienceOf(ctx, viewer, await communityOfTask(ctx, task));
  return { task: await taskView(ctx, task), audience, summary: await summarise(ctx, task, audience) };
}

/** Per task and per clause results of a policy's tasks, or all of a community's. */
export async function preferenceStats(ctx: AppContext, viewer: Viewer, query: z.output<typeof StatsQuery>): Promise<PreferenceStats> {
  const policy = query.policy !== undefined ? await getPolicyById(ctx.db, query.policy) : undefined;
  const community = query.community
    ? await getCommunity(ctx.db, query.community)
    : policy?.communityId != null
      ? await findCommunityById(ctx.db, policy.communityId)
      : undefined;
  if (!community) throw new InvalidInputError("Give a community, or a policy of a community of this instance.");
  const tasks = (await listTasks(ctx.db, community)).filter((t) => query.policy === undefined || t.policyId === query.policy);
  const audience = await audienceOf(ctx, viewer, community);
  const perTask = await Promise.all(tasks.map(async (task) => ({ task: await taskView(ctx, task), summary: await summarise(ctx, task, audience) })));
  const clauses = new Map<string, ComparisonSummary[]>();
  for (const { task, summary } of perTask) {
    for (const clause of task.clauseIds) clauses.set(clause, [...(clauses.get(clause) ?? []), summary]);
  }
  return {
    audience,
    minGroupSize: await minGroupSize(ctx, community.id),
    tasks: perTask,
    clauses: [...clauses].map(([clause, summaries]) => ({ clause, ...aggregateClause(summaries) })),
  };
}

// ---------------------------------------------------------------------------

async function communityOfTask(ctx: AppContext, task: Task): Promise<Community> {
  const community = await findCommunityById(ctx.db, task.communityId);
  if (!community) throw new NotFoundError(`No task ${task.id}.`);
  return community;
}

/** Members (and admins) see every answer; anyone else only those allowed to leave the community. */
async function audienceOf(ctx: AppContext, viewer: Viewer, community: Community): Promise<ResultsAudience> {
  return await isMember(ctx.db, community, viewer) ? "members" : "public";
}

async function minGroupSize(ctx: AppContext, communityId: number): Promise<number> {
  return (await first(ctx.db.select({ k: communities.minGroupSize }).from(communities).where(eq(communities.id, communityId)).limit(1)))?.k ?? 5;
}

async function summarise(ctx: AppContext, task: Task, audience: ResultsAudience): Promise<ComparisonSummary> {
  const judgements = (await taskAnswers(ctx.db, task, audience)).map(({ record, breakdown }) => ({ ...judgementFromRecord(record), breakdown }));
  return aggregateComparison(judgements, { responseCount: task.responses.length, minGroupSize: await minGroupSize(ctx, task.communityId) });
}

/** Clause names by version IRI (versions never change), for the titles of tasks made before titles named clauses. */
const clauseNames = new Map<string, Map<string, string>>();

async function clauseNameIn(ctx: AppContext, versionIri: string, clauseId: string): Promise<string | undefined> {
  let names = clauseNames.get(versionIri);
  if (!names) {
    const version = await findVersionByIri(ctx.db, versionIri);
    if (!version) return undefined;
    names = new Map(versionContent(version).clauses.map((clause) => [clause.id, clauseName(clause)]));
    if (clauseNames.size >= 32) clauseNames.delete(clauseNames.keys().next().value!);
    clauseNames.set(versionIri, names);
  }
  return names.get(clauseId);
}

/** The task's title, with an older title's clause id replaced by the clause's name. */
async function readableTitle(ctx: AppContext, task: Task): Promise<string> {
  const legacy = legacyTitle(task);
  const name = legacy && await clauseNameIn(ctx, task.versionIri!, legacy.clauseId);
  return legacy && name ? `${name}${legacy.rest}` : task.title;
}

async function taskView(ctx: AppContext, task: Task): Promise<TaskView> {
  return {
    id: task.id,
    community: (await findCommunityById(ctx.db, task.communityId))?.handle ?? null,
    title: await readableTitle(ctx, task),
    policy: task.policyId,
    version: task.versionIri,
    clauseIds: task.clauseIds,
    prompt: task.prompt,
    responses: task.responses,
    closed: task.closedAt !== null,
  };
}
