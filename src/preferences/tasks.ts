/**
 * Comparison tasks: stewards put a prompt and candidate responses before
 * their members, from a policy version's examples or from their own
 * uploads; each member gives one answer per task, which they can change.
 * Answers are preference records with the member's pseudonym as rater.
 */
import { and, asc, eq } from "drizzle-orm";
import type { Db } from "../../db/client.ts";
import { preferenceRecords, preferenceTasks } from "../../db/schema.ts";
import type { User } from "../accounts/users.ts";
import type { Community } from "../communities.ts";
import { ConflictError, InvalidInputError, NotFoundError } from "../errors.ts";
import { z } from "../zod.ts";
import { messageSchema, type PolicyContent } from "../policies/content.ts";
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

export function createTasks(db: Db, community: Community, scope: { policyId: number | null; versionIri: string | null }, tasks: NewTask[]): Task[] {
  return db.transaction((tx) =>
    tasks.map((task) =>
      tx
        .insert(preferenceTasks)
        .values({ communityId: community.id, policyId: scope.policyId, versionIri: scope.versionIri, clauseIds: task.clauseIds, title: task.title, prompt: task.prompt, responses: task.responses })
        .returning()
        .get(),
    ),
  );
}

/**
 * One task per clause example that has at least two responses. The
 * responses are put in a fixed, label-blind order (by content) so members
 * are not told which one the policy calls good.
 */
export function tasksFromExamples(content: PolicyContent): NewTask[] {
  const tasks: NewTask[] = [];
  for (const clause of content.clauses) {
    clause.examples.forEach((example, i) => {
      if (example.responses.length < 2) return;
      const responses = [...example.responses].sort((a, b) => a.content.localeCompare(b.content)).map((r) => ({ content: r.content }));
      tasks.push({
        title: example.title ? `${clause.id}: ${example.title}` : `${clause.id}, example ${i + 1}`,
        prompt: example.prompt,
        responses,
        clauseIds: [clause.id],
      });
    });
  }
  return tasks;
}

export function listTasks(db: Db, community: Community): Task[] {
  return db.select().from(preferenceTasks).where(eq(preferenceTasks.communityId, community.id)).orderBy(asc(preferenceTasks.id)).all();
}

export function getTask(db: Db, id: number): Task {
  const task = db.select().from(preferenceTasks).where(eq(preferenceTasks.id, id)).get();
  if (!task) throw new NotFoundError(`No task ${id}.`);
  return task;
}

/** A member's answer; answering again replaces it (one answer per member per task). */
export function answerTask(db: Db, task: Task, user: User, answer: Answer, now = new Date()): PreferenceRecord {
  if (task.closedAt) throw new ConflictError(`Task ${task.id} is closed.`);
  const parsed = preferenceRecordSchema.safeParse({
    prompt: task.prompt,
    responses: task.responses,
    choice: answer.choice ?? null,
    ratings: answer.ratings ?? null,
    rationale: answer.rationale,
    clauseIds: task.clauseIds,
    policyVersion: task.versionIri,
    raterId: pseudonym(db, task.communityId, user.id),
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
  const existing = db
    .select({ id: preferenceRecords.id })
    .from(preferenceRecords)
    .where(and(eq(preferenceRecords.taskId, task.id), eq(preferenceRecords.userId, user.id)))
    .get();
  if (existing) db.update(preferenceRecords).set(values).where(eq(preferenceRecords.id, existing.id)).run();
  else db.insert(preferenceRecords).values({ ...values, taskId: task.id, userId: user.id, createdAt: now }).run();
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
export function taskAnswers(db: Db, task: Task, audience: ResultsAudience): { record: PreferenceRecord; breakdown: boolean }[] {
  const forTask = eq(preferenceRecords.taskId, task.id);
  return db
    .select({ record: preferenceRecords.record, breakdown: preferenceRecords.consentBreakdown })
    .from(preferenceRecords)
    .where(audience === "members" ? forTask : and(forTask, eq(preferenceRecords.consentFederate, true)))
    .all()
    .map((row) => ({ record: row.record as unknown as PreferenceRecord, breakdown: row.breakdown }));
}

/** A member's own answer to a task (with its record id, for narrowing consent), if they gave one. */
export function findAnswer(db: Db, task: Task, user: User): { id: number; record: PreferenceRecord; updatedAt: Date } | undefined {
  const row = db
    .select({ id: preferenceRecords.id, record: preferenceRecords.record, updatedAt: preferenceRecords.updatedAt })
    .from(preferenceRecords)
    .where(and(eq(preferenceRecords.taskId, task.id), eq(preferenceRecords.userId, user.id)))
    .get();
  return row ? { id: row.id, record: row.record as unknown as PreferenceRecord, updatedAt: row.updatedAt } : undefined;
}

/** Clause ids of `wanted` that `content` does not have (a task must speak to clauses that exist). */
export function unknownClauseIds(content: PolicyContent, wanted: readonly string[]): string[] {
  const known = new Set(content.clauses.map((clause) => clause.id));
  return wanted.filter((id) => !known.has(id));
}
