/**
 * Comparison tasks: stewards put a prompt and candidate responses before
 * their members, from a policy version's examples or from their own
 * uploads; each member gives one answer per task, which they can change.
 * Answers are preference records with the member's pseudonym as rater.
 */
import { createHash } from "node:crypto";
import { and, asc, count, eq, gt, inArray, isNull, lt, notExists, sql, type SQL } from "drizzle-orm";
import { first, type Db } from "../../db/client.ts";
import { preferenceRecords, preferenceTasks } from "../../db/schema.ts";
import type { User } from "../accounts/users.ts";
import type { Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { z } from "../zod.ts";
import { messageSchema, type Clause, type PolicyContent } from "../policies/content.ts";
import { canonicalJson } from "../policies/hash.ts";
import { markdownToText } from "../policies/render.ts";
import { consentSchema, preferenceRecordSchema, ratingsSchema, type PreferenceRecord } from "./record.ts";
import { dedupKey, pseudonym } from "./store.ts";

export type Task = typeof preferenceTasks.$inferSelect;

export const newTaskSchema = z
  .object({
    title: z.string().max(500).default(""),
    prompt: z.array(messageSchema).min(1, "needs at least one message"),
    responses: z.array(z.object({ content: z.string().min(1, "must not be empty") }).strict()).min(2, "needs at least two responses"),
    clauseIds: z.array(z.string()).default([]),
  })
  .strict()
  .openapi("NewTask");
export type NewTask = z.output<typeof newTaskSchema>;

export const answerSchema = z
  .object({
    choice: z.number().int().min(0).optional(),
    ratings: ratingsSchema.optional(),
    rationale: z.string().max(10_000).default(""),
    groups: z.array(z.string().trim().min(1).max(100)).max(20).default([]),
    consent: consentSchema,
  })
  .strict()
  .refine((a) => (a.choice === undefined) !== (a.ratings === undefined), "give either a choice or ratings")
  .openapi("TaskAnswer");
export type Answer = z.output<typeof answerSchema>;

/**
 * What makes two tasks of a community the same comparison: the policy, the
 * prompt, the responses and the clauses. Not the title, nor the version: an
 * example a new version keeps unchanged is the task members already answered.
 */
export function taskKey(policyId: number | null, task: { prompt: { role: string; content: string }[]; responses: { content: string }[]; clauseIds: string[] }): string {
  const same = { policy: policyId, prompt: task.prompt, responses: task.responses, clauseIds: [...task.clauseIds].sort() };
  return createHash("sha256").update(canonicalJson(same)).digest("base64url");
}

export interface CreatedTasks {
  created: Task[];
  /** Asked for again: the tasks already held, each once. */
  existing: Task[];
}

/**
 * Creates the tasks the community does not hold yet. The unique key on
 * (community, task key) makes this idempotent even for two requests at
 * once, or two processes on one database: the second insert of a task does
 * nothing and the held row is returned among `existing`.
 */
export async function createTasks(
  db: Db,
  community: Community,
  scope: { policyId: number | null; versionIri: string | null },
  tasks: NewTask[],
): Promise<CreatedTasks> {
  return await db.transaction(async () => {
    await keyOlderTasks(db, community);
    const result: CreatedTasks = { created: [], existing: [] };
    const seen = new Set<string>();
    for (const task of tasks) {
      const key = taskKey(scope.policyId, task);
      if (seen.has(key)) continue;
      seen.add(key);
      const row = await first(db
        .insert(preferenceTasks)
        .values({ communityId: community.id, policyId: scope.policyId, versionIri: scope.versionIri, clauseIds: task.clauseIds, title: task.title, prompt: task.prompt, responses: task.responses, taskKey: key })
        .onConflictDoNothing({ target: [preferenceTasks.communityId, preferenceTasks.taskKey] })
        .returning());
      if (row) result.created.push(row);
      else result.existing.push((await first(db.select().from(preferenceTasks).where(and(eq(preferenceTasks.communityId, community.id), eq(preferenceTasks.taskKey, key))).limit(1)))!);
    }
    return result;
  });
}

/**
 * Tasks made before tasks had keys get theirs, so that creating them again
 * finds them. Of duplicates made back then, the oldest gets the key; the
 * others stay as they are (with their answers), keyless.
 */
async function keyOlderTasks(db: Db, community: Community): Promise<void> {
  const keyless = await db
    .select()
    .from(preferenceTasks)
    .where(and(eq(preferenceTasks.communityId, community.id), isNull(preferenceTasks.taskKey)))
    .orderBy(asc(preferenceTasks.id));
  for (const task of keyless) {
    const key = taskKey(task.policyId, task);
    const held = await first(db.select({ id: preferenceTasks.id }).from(preferenceTasks).where(and(eq(preferenceTasks.communityId, community.id), eq(preferenceTasks.taskKey, key))).limit(1));
    if (!held) await db.update(preferenceTasks).set({ taskKey: key }).where(eq(preferenceTasks.id, task.id));
  }
}

/**
 * A readable name for a clause, as plain text: its title, else the start of
 * its text (members choose among tasks by it; a clause id says nothing).
 */
export function clauseName(clause: Pick<Clause, "title" | "text">): string {
  const name = markdownToText(clause.title) || markdownToText(clause.text);
  return name.length <= 80 ? name : `${name.slice(0, 79).trimEnd()}…`;
}

/**
 * Tasks made from examples before titles named clauses in words were titled
 * "<clause id>: <example title>" or "<clause id>, example 2". For those,
 * the clause id and the rest of the title as plain text, so that the clause
 * id can be shown as the clause's name.
 */
export function legacyTitle(task: Pick<Task, "title" | "clauseIds" | "versionIri">): { clauseId: string; rest: string } | undefined {
  const id = task.clauseIds.length === 1 ? task.clauseIds[0]! : undefined;
  if (id === undefined || task.versionIri === null) return undefined;
  if (task.title.startsWith(`${id}: `)) return { clauseId: id, rest: `: ${markdownToText(task.title.slice(id.length + 2))}` };
  if (/^, example \d+$/.test(task.title.slice(id.length)) && task.title.startsWith(id)) return { clauseId: id, rest: task.title.slice(id.length) };
  return undefined;
}

/**
 * One task per clause example that has at least two responses. The
 * responses are put in a fixed, label-blind order (by content) so members
 * are not told which one the policy calls good.
 */
export function tasksFromExamples(content: PolicyContent): NewTask[] {
  const tasks: NewTask[] = [];
  for (const clause of content.clauses) {
    const name = clauseName(clause);
    clause.examples.forEach((example, i) => {
      if (example.responses.length < 2) return;
      const responses = [...example.responses].sort((a, b) => a.content.localeCompare(b.content)).map((r) => ({ content: r.content }));
      const exampleTitle = example.title ? markdownToText(example.title) : "";
      tasks.push({
        title: (exampleTitle ? `${name}: ${exampleTitle}` : clause.examples.length > 1 ? `${name}, example ${i + 1}` : name).slice(0, 500),
        prompt: example.prompt,
        responses,
        clauseIds: [clause.id],
      });
    });
  }
  return tasks;
}

export async function listTasks(db: Db, community: Community): Promise<Task[]> {
  return await db.select().from(preferenceTasks).where(eq(preferenceTasks.communityId, community.id)).orderBy(asc(preferenceTasks.id));
}

export interface TaskPageQuery {
  /** 1-based. */
  page: number;
  perPage: number;
  /** Only open tasks this user has not answered. */
  unansweredBy?: number;
}

/** Open tasks the user has not answered, of a community. */
function unansweredBy(db: Db, community: Community, userId: number): SQL {
  const answered = db
    .select({ one: sql`1` })
    .from(preferenceRecords)
    .where(and(eq(preferenceRecords.taskId, preferenceTasks.id), eq(preferenceRecords.userId, userId)));
  return and(eq(preferenceTasks.communityId, community.id), isNull(preferenceTasks.closedAt), notExists(answered))!;
}

/** One page of a community's tasks, oldest first, and how many there are in all. */
export async function listTasksPage(db: Db, community: Community, query: TaskPageQuery): Promise<{ tasks: Task[]; total: number }> {
  const where = query.unansweredBy === undefined ? eq(preferenceTasks.communityId, community.id) : await unansweredBy(db, community, query.unansweredBy);
  const total = (await first(db.select({ n: count() }).from(preferenceTasks).where(where).limit(1)))?.n ?? 0;
  const tasks = await db
    .select()
    .from(preferenceTasks)
    .where(where)
    .orderBy(asc(preferenceTasks.id))
    .limit(query.perPage)
    .offset((query.page - 1) * query.perPage);
  return { tasks, total };
}

/** How many open tasks of the community the user has not answered. */
export async function countUnanswered(db: Db, community: Community, userId: number): Promise<number> {
  return (await first(db.select({ n: count() }).from(preferenceTasks).where(await unansweredBy(db, community, userId)).limit(1)))?.n ?? 0;
}

/**
 * The open task the user has not answered that comes after `after` (by id),
 * wrapping round to the first: a member who skips a task moves on instead
 * of being sent back to it.
 */
export async function nextUnansweredTask(db: Db, community: Community, userId: number, after = 0): Promise<Task | undefined> {
  const open = await unansweredBy(db, community, userId);
  const firstWhere = async (where: SQL | undefined) =>
    await first(db.select().from(preferenceTasks).where(and(open, where)).orderBy(asc(preferenceTasks.id)).limit(1));
  return (await firstWhere(gt(preferenceTasks.id, after))) ?? (after > 0 ? await firstWhere(lt(preferenceTasks.id, after)) : undefined);
}

/** Of these tasks, the ones the user has answered. */
export async function answeredAmong(db: Db, userId: number, taskIds: number[]): Promise<Set<number>> {
  if (taskIds.length === 0) return new Set();
  const rows = await db
    .select({ task: preferenceRecords.taskId })
    .from(preferenceRecords)
    .where(and(eq(preferenceRecords.userId, userId), inArray(preferenceRecords.taskId, taskIds)));
  return new Set(rows.flatMap((row) => (row.task === null ? [] : [row.task])));
}

export async function getTask(db: Db, id: number): Promise<Task> {
  const task = await first(db.select().from(preferenceTasks).where(eq(preferenceTasks.id, id)).limit(1));
  if (!task) throw new NotFoundError(`No task ${id}.`);
  return task;
}

/** A member's answer; answering again replaces it (one answer per member per task). */
export async function answerTask(db: Db, task: Task, user: User, answer: Answer, now = new Date()): Promise<PreferenceRecord> {
  if (task.closedAt) throw new ConflictError(`Task ${task.id} is closed.`);
  const parsed = preferenceRecordSchema.safeParse({
    prompt: task.prompt,
    responses: task.responses,
    choice: answer.choice ?? null,
    ratings: answer.ratings ?? null,
    rationale: answer.rationale,
    clauseIds: task.clauseIds,
    policyVersion: task.versionIri,
    raterId: await pseudonym(db, task.communityId, user.id),
    groups: answer.groups,
    createdAt: now.toISOString(),
    consent: answer.consent,
    source: { name: `task:${task.id}`, licence: null },
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidInputError(`${issue?.path.join(".") || "answer"}: ${issue?.message}`);
  }
  const record = parsed.data;
  const values = {
    communityId: task.communityId,
    policyId: task.policyId,
    dedupKey: dedupKey({ ...record, source: { name: `task:${task.id}:user:${user.id}`, licence: null } }),
    record: record as unknown as Record<string, unknown>,
    raterId: record.raterId,
    consentTrain: record.consent.train,
    consentFederate: record.consent.federate,
    consentBreakdown: record.consent.breakdown,
    sourceName: `task:${task.id}`,
    updatedAt: now,
  };
  const existing = await first(db
    .select({ id: preferenceRecords.id })
    .from(preferenceRecords)
    .where(and(eq(preferenceRecords.taskId, task.id), eq(preferenceRecords.userId, user.id))).limit(1));
  if (existing) await db.update(preferenceRecords).set(values).where(eq(preferenceRecords.id, existing.id));
  else await db.insert(preferenceRecords).values({ ...values, taskId: task.id, userId: user.id, createdAt: now });
  return record;
}

/** Every answer to a task, for aggregation. */
/**
 * Who results are for. The community's members see every answer; anyone
 * else (signed out, or from another community) sees only answers whose
 * raters allowed them to leave the community (consent "federate"), since a
 * public page is read from anywhere, as a copy on another instance is.
 */
export type ResultsAudience = "members" | "public";

/** The answers to a task that results for this audience may count, with each one's current consent terms. */
export async function taskAnswers(db: Db, task: Task, audience: ResultsAudience): Promise<{ record: PreferenceRecord; breakdown: boolean }[]> {
  const forTask = eq(preferenceRecords.taskId, task.id);
  return (await db
    .select({ record: preferenceRecords.record, breakdown: preferenceRecords.consentBreakdown })
    .from(preferenceRecords)
    .where(audience === "members" ? forTask : and(forTask, eq(preferenceRecords.consentFederate, true))))
    .map((row) => ({ record: row.record as unknown as PreferenceRecord, breakdown: row.breakdown }));
}

/** A member's own answer to a task (with its record id, for narrowing consent), if they gave one. */
export async function findAnswer(db: Db, task: Task, user: User): Promise<{ id: number; record: PreferenceRecord; updatedAt: Date } | undefined> {
  const row = await first(db
    .select({ id: preferenceRecords.id, record: preferenceRecords.record, updatedAt: preferenceRecords.updatedAt })
    .from(preferenceRecords)
    .where(and(eq(preferenceRecords.taskId, task.id), eq(preferenceRecords.userId, user.id))).limit(1));
  return row ? { id: row.id, record: row.record as unknown as PreferenceRecord, updatedAt: row.updatedAt } : undefined;
}

/** Clause ids of `wanted` that `content` does not have (a task must speak to clauses that exist). */
export function unknownClauseIds(content: PolicyContent, wanted: readonly string[]): string[] {
  const known = new Set(content.clauses.map((clause) => clause.id));
  return wanted.filter((id) => !known.has(id));
}
