/**
 * Preference data: streaming import (the request body is the file, gzipped
 * or not), consented export in training formats, the rater's consent,
 * comparison tasks and their pluralistic results.
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { Readable } from "node:stream";
import type { Context } from "hono";
import { stream } from "hono/streaming";
import { eq } from "drizzle-orm";
import { communities, preferenceRecords, preferenceTasks } from "../../db/schema.ts";
import type { User } from "../accounts/users.ts";
import { assertSteward, findCommunityById, getCommunity, memberRole, type Community } from "../communities.ts";
import { ForbiddenError, InvalidInputError } from "../errors.ts";
import { aggregateClause, aggregateComparison, judgementFromRecord, type ComparisonSummary } from "../preferences/aggregate.ts";
import { PREFERENCE_FORMATS, parsePreferenceLines, recordsFromPolicyExamples, toOpenAiLines, toTrlLines } from "../preferences/formats.ts";
import { consentFromLicence, consentSchema, parseConsent } from "../preferences/record.ts";
import { findRecord, importRecords, narrowRecordConsent, trainableRecords } from "../preferences/store.ts";
import { afterCommit } from "../../federation/outgoing.ts";
import { announceDatasetChanged, mirroredRecords, sendRecordWithdrawn } from "../../federation/preference-datasets.ts";
import { answerSchema, answerTask, createTasks, findAnswer, getTask, listTasks, newTaskSchema, taskAnswers, tasksFromExamples, unknownClauseIds, type ResultsAudience, type Task } from "../preferences/tasks.ts";
import { findVersionByIri, getPolicyById, versionContent } from "../policies/policies.ts";
import { optionalUser, requireUser } from "./auth.ts";
import { problem } from "./problem.ts";
import { fedContext, type ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam, Loose } from "./schemas.ts";


const ImportQuery = z.object({
  community: z.string(),
  format: z.enum([...PREFERENCE_FORMATS, "policy-examples"]),
  policy: z.coerce.number().int().positive().optional(),
  licence: z.string().max(100).optional(),
  consent: z.string().optional().openapi({ description: "Any of train,federate,breakdown; without it, what the licence allows" }),
  onError: z.enum(["skip", "stop"]).default("skip"),
  source: z.string().max(200).optional().openapi({ description: "Source name recorded on each record (e.g. the file name)" }),
});

export function preferenceRoutes(deps: ApiDeps) {
  const { db } = deps;
  const app = new OpenAPIHono();

  const steward = (c: Context, handle: string): { user: User; community: Community } => {
    const user = requireUser(c, db);
    const community = getCommunity(db, handle);
    assertSteward(db, community, user);
    return { user, community };
  };
  const minGroupSize = (communityId: number) =>
    db.select({ k: communities.minGroupSize }).from(communities).where(eq(communities.id, communityId)).get()?.k ?? 5;

  // The body is the file itself, so this route validates only its query with zod.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/preferences/import",
    tags: ["preferences"],
    summary: "Import preference data (HH-RLHF, TRL or OpenAI JSONL, gzipped or not) streamed in the request body (stewards)",
    security,
    request: { query: ImportQuery, body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } } },
    responses: { 200: jsonResponse(Loose, "What was imported, duplicates, and every malformed line with its number"), 400: problemResponse("Bad parameters") },
  });
  app.post("/preferences/import", async (c) => {
    const parsedQuery = ImportQuery.safeParse(c.req.query());
    if (!parsedQuery.success) throw new InvalidInputError(parsedQuery.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const query = parsedQuery.data;
    const { community } = steward(c, query.community);
    const policy = query.policy ? getPolicyById(db, query.policy) : undefined;
    if (policy && policy.communityId !== community.id && policy.communityId !== null) {
      throw new InvalidInputError(`Policy ${policy.id} belongs to another community.`);
    }
    const licence = query.licence ?? null;
    let consentNote: string;
    let consent;
    try {
      consent = query.consent !== undefined ? parseConsent(query.consent) : consentFromLicence(licence).consent;
      consentNote = query.consent !== undefined ? `consent given on import: ${query.consent || "none"}` : consentFromLicence(licence).reason;
    } catch (error) {
      throw new InvalidInputError(`consent: ${(error as Error).message}.`);
    }
    if (query.format === "policy-examples") throw new InvalidInputError("Import a policy's examples with POST /preferences/import-examples.");
    if (!c.req.raw.body) throw new InvalidInputError("Send the file as the request body.");
    const sourceName = `${query.format}:${query.source ?? "upload"}`;
    const lines = parsePreferenceLines(Readable.fromWeb(c.req.raw.body as never), query.format, {
      source: { name: sourceName, licence },
      consent,
      createdAt: new Date().toISOString(),
    });
    const report = await importRecords(db, lines, { communityId: community.id, policyId: policy?.id ?? null, onError: query.onError });
    if (policy && report.imported > 0 && consent.federate) await announce(policy.id);
    return c.json({ ...report, consent, consentNote, source: sourceName }, 200);
  });

  app.openapi(
    createRoute({
      method: "post",
      path: "/preferences/import-examples",
      tags: ["preferences"],
      summary: "Turn a policy version's GOOD/BAD examples into preference records (stewards)",
      security,
      request: { body: jsonBody(z.object({ community: z.string(), version: z.string().url(), consent: z.string().optional() }).strict()) },
      responses: { 200: jsonResponse(Loose, "Import report") },
    }),
    async (c) => {
      const body = c.req.valid("json");
      const { community } = steward(c, body.community);
      const version = findVersionByIri(db, body.version);
      if (!version) throw new InvalidInputError(`${body.version} is not a version held here.`);
      const content = versionContent(version);
      const consent = body.consent !== undefined ? parseConsent(body.consent) : consentFromLicence(content.licence).consent;
      const records = recordsFromPolicyExamples(content, version.iri, { createdAt: version.publishedAt.toISOString(), consent });
      async function* asLines() {
        for (const record of records) yield { ok: true as const, record };
      }
      const report = await importRecords(db, asLines(), { communityId: community.id, policyId: version.policyId, onError: "stop" });
      if (report.imported > 0 && consent.federate) await announce(version.policyId);
      return c.json({ ...report, consent }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/preferences/export",
      tags: ["preferences"],
      summary: "Records whose raters allowed training, as TRL or OpenAI preference JSONL (streamed)",
      request: { query: z.object({ policy: z.coerce.number().int().positive(), format: z.enum(["trl", "openai"]) }) },
      responses: { 200: { content: { "application/x-ndjson": { schema: z.string() } }, description: "One pair per line" } },
    }),
    (c) => {
      const query = c.req.valid("query");
      const policy = getPolicyById(db, query.policy);
      const user = optionalUser(c, db);
      // Members see what may be trained on; anyone else only what may also leave the instance.
      const member = user && policy.communityId !== null && (user.isAdmin || memberRoleOf(policy.communityId, user));
      const write = query.format === "trl" ? toTrlLines : toOpenAiLines;
      c.header("Content-Type", "application/x-ndjson; charset=utf-8");
      return stream(c, async (out) => {
        let chunk = "";
        for (const record of trainableRecords(db, { policyId: policy.id })) {
          if (!member && !record.consent.federate) continue;
          chunk += write(record).join("");
          if (chunk.length > 64 * 1024) {
            await out.write(chunk);
            chunk = "";
          }
        }
        if (chunk) await out.write(chunk);
      }) as never;
    },
  );

  const memberRoleOf = (communityId: number, user: User) => {
    const community = findCommunityById(db, communityId);
    return community ? memberRole(db, community, user) !== undefined : false;
  };

  app.openapi(
    createRoute({
      method: "patch",
      path: "/preferences/{id}/consent",
      tags: ["preferences"],
      summary: "Narrow the consent of your own judgement (it can be withdrawn, not widened)",
      security,
      request: { params: IdParam, body: jsonBody(consentSchema) },
      responses: { 200: jsonResponse(Loose, "The consent now in force"), 403: problemResponse("Not your judgement") },
    }),
    async (c) => {
      const user = requireUser(c, db);
      const id = c.req.valid("param").id;
      const wasFederated = findRecord(db, id).consentFederate;
      const row = narrowRecordConsent(db, id, user.id, c.req.valid("json"));
      if (row.policyId !== null && wasFederated) {
        const policy = getPolicyById(db, row.policyId);
        const ctx = fedContext(deps);
        // Withdrawn from federation: mirrors drop it. Otherwise they sync the narrower terms.
        if (!row.consentFederate) await afterCommit("withdraw a preference record from mirrors", () => sendRecordWithdrawn(ctx, policy, row.id));
        else await announce(row.policyId);
      }
      return c.json({ id: row.id, consent: { train: row.consentTrain, federate: row.consentFederate, breakdown: row.consentBreakdown } }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/preferences/mine",
      tags: ["preferences"],
      summary: "Your own judgements (answers to tasks), with their consent",
      security,
      responses: { 200: jsonResponse(z.array(Loose), "Your judgements") },
    }),
    (c) => {
      const user = requireUser(c, db);
      const rows = db
        .select({ row: preferenceRecords, taskTitle: preferenceTasks.title, community: communities.handle })
        .from(preferenceRecords)
        .leftJoin(preferenceTasks, eq(preferenceTasks.id, preferenceRecords.taskId))
        .innerJoin(communities, eq(communities.id, preferenceRecords.communityId))
        .where(eq(preferenceRecords.userId, user.id))
        .orderBy(preferenceRecords.id)
        .all();
      return c.json(
        rows.map(({ row, taskTitle, community }) => {
          const record = row.record as { choice?: number | null; ratings?: unknown; rationale?: string; groups?: string[] };
          return {
            id: row.id,
            task: row.taskId,
            taskTitle,
            community,
            choice: record.choice ?? null,
            ratings: record.ratings ?? null,
            rationale: record.rationale ?? "",
            groups: record.groups ?? [],
            consent: { train: row.consentTrain, federate: row.consentFederate, breakdown: row.consentBreakdown },
            updatedAt: row.updatedAt.toISOString(),
          };
        }),
        200,
      );
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/preferences/mirrored",
      tags: ["preferences"],
      summary: "Preference records this instance mirrors from another instance's policy (by the policy's IRI)",
      request: { query: z.object({ policy: z.string().url() }) },
      responses: { 200: jsonResponse(Loose, "Mirrored records") },
    }),
    (c) => {
      const rows = mirroredRecords(fedContext(deps), c.req.valid("query").policy);
      return c.json(
        { policy: c.req.valid("query").policy, count: rows.length, records: rows.map((row) => ({ iri: row.iri, consent: (row.record as { consent?: unknown }).consent ?? null, receivedAt: row.receivedAt.toISOString() })) },
        200,
      );
    },
  );

  // Tasks

  app.openapi(
    createRoute({
      method: "post",
      path: "/tasks",
      tags: ["tasks"],
      summary: "Create comparison tasks, from a version's examples or from given prompts and responses (stewards)",
      security,
      request: {
        body: jsonBody(
          z
            .object({
              community: z.string(),
              fromVersion: z.string().url().optional(),
              version: z.string().url().optional().openapi({ description: "A version IRI the given tasks speak to (their clause ids must be its clauses); no tasks are made from its examples" }),
              tasks: z.array(newTaskSchema).optional(),
            })
            .strict(),
        ),
      },
      responses: { 201: jsonResponse(z.array(Loose), "The tasks") },
    }),
    (c) => {
      const body = c.req.valid("json");
      const { community } = steward(c, body.community);
      if (!body.fromVersion && !body.tasks?.length) throw new InvalidInputError("Give fromVersion (a version IRI) or tasks.");
      if (body.fromVersion && body.version && body.fromVersion !== body.version) throw new InvalidInputError("Give fromVersion or version, not two different versions.");
      const versionIri = body.fromVersion ?? body.version;
      const version = versionIri ? findVersionByIri(db, versionIri) : undefined;
      if (versionIri && !version) {
        const path = body.fromVersion ? "fromVersion" : "version";
        return problem(400, "Invalid request", `${path}: ${versionIri} is not a version held here`, { issues: [{ path, message: "is not a version held here" }] }) as never;
      }
      if (version) {
        const content = versionContent(version);
        const issues = (body.tasks ?? []).flatMap((task, i) => {
          const unknown = unknownClauseIds(content, task.clauseIds);
          return unknown.length ? [{ path: `tasks.${i}.clauseIds`, message: `not clauses of that version: ${unknown.join(", ")}` }] : [];
        });
        if (issues.length) return problem(400, "Invalid request", issues.map((issue) => `${issue.path}: ${issue.message}`).join("; "), { issues }) as never;
      }
      const tasks = [...(version && body.fromVersion ? tasksFromExamples(versionContent(version)) : []), ...(body.tasks ?? [])];
      if (tasks.length === 0) throw new InvalidInputError("That version has no examples with two or more responses.");
      const created = createTasks(db, community, { policyId: version?.policyId ?? null, versionIri: version?.iri ?? null }, tasks);
      return c.json(created.map(taskView), 201);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/tasks",
      tags: ["tasks"],
      summary: "A community's comparison tasks",
      request: { query: z.object({ community: z.string() }) },
      responses: { 200: jsonResponse(z.array(Loose), "Tasks") },
    }),
    (c) => c.json(listTasks(db, getCommunity(db, c.req.valid("query").community)).map(taskView), 200),
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/tasks/{id}",
      tags: ["tasks"],
      summary: "One task; signed in, with your own answer to it (null when you have not answered)",
      request: { params: IdParam },
      responses: { 200: jsonResponse(Loose, "The task"), 404: problemResponse("No such task") },
    }),
    (c) => {
      const task = getTask(db, c.req.valid("param").id);
      const user = optionalUser(c, db);
      const mine = user ? findAnswer(db, task, user) : undefined;
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
      return c.json({ ...taskView(task), answer } as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "post",
      path: "/tasks/{id}/answer",
      tags: ["tasks"],
      summary: "Answer a task (members); answering again replaces your answer",
      security,
      request: { params: IdParam, body: jsonBody(answerSchema) },
      responses: { 200: jsonResponse(Loose, "Your answer as stored"), 403: problemResponse("Not a member") },
    }),
    async (c) => {
      const user = requireUser(c, db);
      const task = getTask(db, c.req.valid("param").id);
      const community = findCommunityById(db, task.communityId)!;
      if (!user.isAdmin && !memberRole(db, community, user)) throw new ForbiddenError(`Only members of "${community.handle}" answer its tasks.`);
      const record = answerTask(db, task, user, c.req.valid("json"));
      if (task.policyId !== null && record.consent.federate) await announce(task.policyId);
      return c.json({ task: task.id, raterId: record.raterId, choice: record.choice, consent: record.consent }, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/tasks/{id}/results",
      tags: ["tasks"],
      summary: "A task's results: overall shares with intervals, per group (k-anonymous), and how much groups disagree",
      description: "Members of the task's community see every answer (`audience: members`); anyone else only answers whose raters allowed them to leave the community (consent `federate`, `audience: public`).",
      request: { params: IdParam },
      responses: { 200: jsonResponse(Loose, "Results") },
    }),
    (c) => {
      const task = getTask(db, c.req.valid("param").id);
      const audience = audienceOf(c, task.communityId);
      return c.json({ task: taskView(task), audience, ...summarise(task, audience) } as unknown as Record<string, unknown>, 200);
    },
  );

  app.openapi(
    createRoute({
      method: "get",
      path: "/preferences/stats",
      tags: ["preferences"],
      summary: "Per task and per clause results of a policy's tasks (or all of a community's)",
      description: "Counted as for /tasks/{id}/results: every answer for members, only answers with consent `federate` for anyone else.",
      request: { query: z.object({ community: z.string().optional(), policy: z.coerce.number().int().positive().optional() }) },
      responses: { 200: jsonResponse(Loose, "Results per task and per clause") },
    }),
    (c) => {
      const query = c.req.valid("query");
      const policy = query.policy !== undefined ? getPolicyById(db, query.policy) : undefined;
      const community = query.community
        ? getCommunity(db, query.community)
        : policy?.communityId != null
          ? findCommunityById(db, policy.communityId)
          : undefined;
      if (!community) throw new InvalidInputError("Give a community, or a policy of a community of this instance.");
      const tasks = listTasks(db, community).filter((t) => query.policy === undefined || t.policyId === query.policy);
      const audience = audienceOf(c, community.id);
      const perTask = tasks.map((task) => ({ task: taskView(task), ...summarise(task, audience) }));
      const clauses = new Map<string, ComparisonSummary[]>();
      perTask.forEach(({ task, summary }) => {
        for (const clause of task.clauseIds) clauses.set(clause, [...(clauses.get(clause) ?? []), summary]);
      });
      return c.json(
        {
          audience,
          minGroupSize: minGroupSize(community.id),
          tasks: perTask,
          clauses: [...clauses].map(([clause, summaries]) => ({ clause, ...aggregateClause(summaries) })),
        } as unknown as Record<string, unknown>,
        200,
      );
    },
  );

  /** After the commit: tell the policy's followers that its dataset changed. */
  async function announce(policyId: number): Promise<void> {
    const policy = getPolicyById(db, policyId);
    const ctx = fedContext(deps);
    await afterCommit("announce a changed preference dataset", () => announceDatasetChanged(ctx, policy));
  }

  /** Members (and admins) see every answer; anyone else only those allowed to leave the community. */
  function audienceOf(c: Context, communityId: number): ResultsAudience {
    const user = optionalUser(c, db);
    return user && (user.isAdmin || memberRoleOf(communityId, user)) ? "members" : "public";
  }

  function summarise(task: Task, audience: ResultsAudience): { summary: ComparisonSummary } {
    const judgements = taskAnswers(db, task, audience).map(({ record, breakdown }) => ({ ...judgementFromRecord(record), breakdown }));
    return { summary: aggregateComparison(judgements, { responseCount: task.responses.length, minGroupSize: minGroupSize(task.communityId) }) };
  }

  function taskView(task: Task) {
    return {
      id: task.id,
      community: findCommunityById(db, task.communityId)?.handle ?? null,
      title: task.title,
      policy: task.policyId,
      version: task.versionIri,
      clauseIds: task.clauseIds,
      prompt: task.prompt,
      responses: task.responses,
      closed: task.closedAt !== null,
    };
  }

  return app;
}
