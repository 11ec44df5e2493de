/**
 * Preference data: streaming import (the request body is the file, gzipped
 * or not), consented export in training formats, the rater's consent,
 * comparison tasks and their pluralistic results. Each handler calls one
 * use case (src/app/preferences.ts, src/app/preference-tasks.ts).
 */
import { OpenAPIHono, createRoute, z } from "@hono/zod-openapi";
import { Readable } from "node:stream";
import { stream } from "hono/streaming";
import { changeRecordConsent, exportPreferences, importPolicyExamples, importPreferences, mirroredPreferenceRecords, myPreferences } from "../app/preferences.ts";
import { answerPreferenceTask, createPreferenceTasks, listCommunityTasks, preferenceStats, taskResults, taskWithAnswer } from "../app/preference-tasks.ts";
import { InvalidInputError } from "../errors.ts";
import { consentSchema } from "../preferences/record.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security, IdParam } from "./schemas.ts";
import {
  AnswerInput,
  AnswerResult,
  ConsentResult,
  CreatedTasks,
  ExportQuery,
  ImportExamplesInput,
  ImportQuery,
  ImportReport,
  MirroredRecords,
  MyRecord,
  NewTasksInput,
  PreferenceStats,
  StatsQuery,
  TaskDetail,
  TaskList,
  TaskListQuery,
  TaskResults,
} from "./schemas/preferences.ts";

const importExamplesRoute = createRoute({
  method: "post",
  path: "/preferences/import-examples",
  tags: ["preferences"],
  summary: "Turn a policy version's GOOD/BAD examples into preference records (stewards)",
  security,
  request: { body: jsonBody(ImportExamplesInput) },
  responses: { 200: jsonResponse(ImportReport, "Import report") },
});

const exportRoute = createRoute({
  method: "get",
  path: "/preferences/export",
  tags: ["preferences"],
  summary: "Records whose raters allowed training, as TRL or OpenAI preference JSONL (streamed)",
  request: { query: ExportQuery },
  responses: { 200: { content: { "application/x-ndjson": { schema: z.string() } }, description: "One pair per line" } },
});

const consentRoute = createRoute({
  method: "patch",
  path: "/preferences/{id}/consent",
  tags: ["preferences"],
  summary: "Narrow the consent of your own judgement (it can be withdrawn, not widened)",
  security,
  request: { params: IdParam, body: jsonBody(consentSchema) },
  responses: { 200: jsonResponse(ConsentResult, "The consent now in force"), 403: problemResponse("Not your judgement") },
});

const mineRoute = createRoute({
  method: "get",
  path: "/preferences/mine",
  tags: ["preferences"],
  summary: "Your own judgements (answers to tasks), with their consent",
  security,
  responses: { 200: jsonResponse(z.array(MyRecord), "Your judgements") },
});

const mirroredRoute = createRoute({
  method: "get",
  path: "/preferences/mirrored",
  tags: ["preferences"],
  summary: "Preference records this instance mirrors from another instance's policy (by the policy's IRI)",
  request: { query: z.object({ policy: z.string().url() }) },
  responses: { 200: jsonResponse(MirroredRecords, "Mirrored records") },
});

const statsRoute = createRoute({
  method: "get",
  path: "/preferences/stats",
  tags: ["preferences"],
  summary: "Per task and per clause results of a policy's tasks (or all of a community's)",
  description: "Counted as for /tasks/{id}/results: every answer for members, only answers with consent `federate` for anyone else.",
  request: { query: StatsQuery },
  responses: { 200: jsonResponse(PreferenceStats, "Results per task and per clause") },
});

/** Import, export, consent and the reads of records. */
export function preferenceRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  const app = new OpenAPIHono();

  // The body is the file itself, so this route validates only its query with zod.
  app.openAPIRegistry.registerPath({
    method: "post",
    path: "/preferences/import",
    tags: ["preferences"],
    summary: "Import preference data (HH-RLHF, TRL or OpenAI JSONL, gzipped or not) streamed in the request body (stewards)",
    security,
    request: { query: ImportQuery, body: { content: { "application/octet-stream": { schema: z.string().openapi({ format: "binary" }) } } } },
    responses: { 200: jsonResponse(ImportReport, "What was imported, duplicates, and every malformed line with its number"), 400: problemResponse("Bad parameters") },
  });
  app.post("/preferences/import", async (c) => {
    const query = ImportQuery.safeParse(c.req.query());
    if (!query.success) throw new InvalidInputError(query.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
    const body = c.req.raw.body ? Readable.fromWeb(c.req.raw.body as never) : null;
    const report: ImportReport = await importPreferences(context, await optionalUser(c, db), query.data, body);
    return c.json(report, 200);
  });

  app.openapi(importExamplesRoute, async (c) => c.json(await importPolicyExamples(context, await optionalUser(c, db), c.req.valid("json")), 200));

  app.openapi(exportRoute, async (c) => {
    const chunks = await exportPreferences(context, await optionalUser(c, db), c.req.valid("query"));
    c.header("Content-Type", "application/x-ndjson; charset=utf-8");
    return stream(c, async (out) => {
      for await (const chunk of chunks) await out.write(chunk);
    }) as never;
  });

  app.openapi(consentRoute, async (c) => c.json(await changeRecordConsent(context, await optionalUser(c, db), c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(mineRoute, async (c) => c.json(await myPreferences(context, await optionalUser(c, db)), 200));
  app.openapi(mirroredRoute, async (c) => c.json(await mirroredPreferenceRecords(context, c.req.valid("query").policy), 200));
  app.openapi(statsRoute, async (c) => c.json(await preferenceStats(context, await optionalUser(c, db), c.req.valid("query")), 200));

  app.route("/", taskRoutes(deps));
  return app;
}

const createTasksRoute = createRoute({
  method: "post",
  path: "/tasks",
  tags: ["tasks"],
  summary: "Create comparison tasks, from a version's examples or from given prompts and responses (stewards)",
  description: "Idempotent: a task the community already holds (same policy, prompt, responses and clauses) is not added again but listed in `existing`, even when two requests race.",
  security,
  request: { body: jsonBody(NewTasksInput) },
  responses: { 201: jsonResponse(CreatedTasks, "Some tasks were created"), 200: jsonResponse(CreatedTasks, "Every task asked for was already held") },
});

const listTasksRoute = createRoute({
  method: "get",
  path: "/tasks",
  tags: ["tasks"],
  summary: "A community's comparison tasks, a page at a time, oldest first",
  description: "With `unanswered=true` (signed in), only open tasks you have not answered. `nextUnanswered` is your first such task.",
  request: { query: TaskListQuery },
  responses: { 200: jsonResponse(TaskList, "A page of tasks") },
});

const taskRoute = createRoute({
  method: "get",
  path: "/tasks/{id}",
  tags: ["tasks"],
  summary: "One task; signed in, with your own answer to it (null when you have not answered)",
  request: { params: IdParam },
  responses: { 200: jsonResponse(TaskDetail, "The task"), 404: problemResponse("No such task") },
});

const answerRoute = createRoute({
  method: "post",
  path: "/tasks/{id}/answer",
  tags: ["tasks"],
  summary: "Answer a task (members); answering again replaces your answer",
  security,
  request: { params: IdParam, body: jsonBody(AnswerInput) },
  responses: { 200: jsonResponse(AnswerResult, "Your answer as stored"), 403: problemResponse("Not a member") },
});

const resultsRoute = createRoute({
  method: "get",
  path: "/tasks/{id}/results",
  tags: ["tasks"],
  summary: "A task's results: overall shares with intervals, per group (k-anonymous), and how much groups disagree",
  description: "Members of the task's community see every answer (`audience: members`); anyone else only answers whose raters allowed them to leave the community (consent `federate`, `audience: public`).",
  request: { params: IdParam },
  responses: { 200: jsonResponse(TaskResults, "Results") },
});

/** Comparison tasks, their answers and results. */
function taskRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  const app = new OpenAPIHono();
  app.openapi(createTasksRoute, async (c) => {
    const result = await createPreferenceTasks(context, await optionalUser(c, db), c.req.valid("json"));
    return result.created.length > 0 ? c.json(result, 201) : c.json(result, 200);
  });
  app.openapi(listTasksRoute, async (c) => c.json(await listCommunityTasks(context, await optionalUser(c, db), c.req.valid("query")), 200));
  app.openapi(taskRoute, async (c) => c.json(await taskWithAnswer(context, await optionalUser(c, db), c.req.valid("param").id), 200));
  app.openapi(answerRoute, async (c) => c.json(await answerPreferenceTask(context, await optionalUser(c, db), c.req.valid("param").id, c.req.valid("json")), 200));
  app.openapi(resultsRoute, async (c) => c.json(await taskResults(context, await optionalUser(c, db), c.req.valid("param").id), 200));
  return app;
}
