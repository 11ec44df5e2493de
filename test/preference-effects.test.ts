/**
 * What mirrors of a policy's preference dataset are told, and when: each
 * change to the federated dataset leaves exactly one outbox effect, written
 * in the transaction of the change (so it exists exactly when the change
 * does), and a refused or stopped change leaves none. In-process instance,
 * queue not started: the effects stay in the outbox for the test to read.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { asc, eq } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { outbox, preferenceRecords } from "../db/schema.ts";
import { createToken } from "../src/accounts/tokens.ts";
import { createUser } from "../src/accounts/users.ts";
import { ManualClock } from "../src/app/clock.ts";
import { createCommunity, setMembership, type Community } from "../src/communities.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { createTasks } from "../src/preferences/tasks.ts";
import type { ImportReport } from "../src/api/schemas/preferences.ts";
import { cleanupDir } from "./harness.ts";
import { first } from "../db/client.ts";

const ORIGIN = "http://127.0.0.1:9";
const clock = new ManualClock(new Date("2026-12-03T12:00:00Z"));

let instance: Instance;
let dataDir: string;
let community: Community;
let policy: { id: number; iri: string };
const tokens: Record<string, string> = {};

async function call<T>(method: string, path: string, options: { token?: string; json?: unknown; body?: string } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.json !== undefined) headers["Content-Type"] = "application/json";
  const response = await instance.app.request(`${ORIGIN}/api/v1${path}`, {
    method,
    headers,
    body: options.json !== undefined ? JSON.stringify(options.json) : options.body,
  });
  return { status: response.status, body: (await response.json()) as T };
}

const effects = async () =>
  (await instance.db
    .select({ kind: outbox.kind, payload: outbox.payload, createdAt: outbox.createdAt })
    .from(outbox)
    .orderBy(asc(outbox.id)))
    .filter((row) => row.kind.startsWith("preferences."));

const trl = (n: number) => JSON.stringify({ prompt: `Question ${n}?`, chosen: `Helpful ${n}.`, rejected: `Unhelpful ${n}.` });
const importFile = (lines: string[], query: Record<string, string>) =>
  call<ImportReport>("POST", `/preferences/import?${new URLSearchParams({ community: "hh", format: "trl", policy: String(policy.id), ...query })}`, {
    token: tokens.alice,
    body: lines.join("\n"),
  });

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-pref-effects-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: false, clock });
  const [alice, mia, olga] = await Promise.all(["alice", "mia", "olga"].map(async (username) => await createUser(instance.db, { username, password: "a long enough passphrase" })));
  community = await createCommunity(instance.db, { handle: "hh", name: "HH", steward: alice! });
  await setMembership(instance.db, community, mia!, "member");
  for (const user of [alice!, mia!, olga!]) tokens[user.username] = (await createToken(instance.db, user.id, "test")).token;
  const created = await call<{ id: number; iri: string }>("POST", "/policies", {
    token: tokens.alice,
    json: { community: "hh", slug: "care", content: { title: "Care", licence: "CC0-1.0", clauses: [{ id: "kind", authority: "user", text: "Be kind." }] } },
  });
  expect(created.status).toBe(201);
  policy = created.body;
});

afterAll(async () => {
  await instance?.close();
  cleanupDir(dataDir);
});

beforeEach(async () => {
  await instance.db.delete(outbox);
});

describe("an import", () => {
  it("of shareable records tells mirrors once, stamped with the instance's clock", async () => {
    const imported = await importFile([trl(1), trl(2), trl(3)], { consent: "train,federate" });
    expect(imported.body).toMatchObject({ imported: 3, stopped: false });
    expect(await effects()).toEqual([{ kind: "preferences.dataset-changed", payload: { policyIri: policy.iri }, createdAt: clock.now() }]);
  });

  it("that adds nothing new, or nothing shareable, tells no one", async () => {
    expect((await importFile([trl(1), trl(2), trl(3)], { consent: "train,federate" })).body).toMatchObject({ imported: 0, duplicates: 3 });
    expect((await importFile([trl(4)], { consent: "train" })).body).toMatchObject({ imported: 1 });
    expect(await effects()).toEqual([]);
  });

  it("that stops at a bad line keeps no record and records no effect", async () => {
    const before = (await instance.db.select().from(preferenceRecords)).length;
    const stopped = await importFile([trl(5), "{not json", trl(6)], { consent: "train,federate", onError: "stop" });
    expect(stopped.body).toMatchObject({ imported: 0, stopped: true });
    expect(await instance.db.select().from(preferenceRecords)).toHaveLength(before);
    expect(await effects()).toEqual([]);
  });

  it("refused to a non-steward changes nothing", async () => {
    const before = (await instance.db.select().from(preferenceRecords)).length;
    const refused = await call("POST", `/preferences/import?community=hh&format=trl&policy=${policy.id}&consent=train,federate`, { token: tokens.mia, body: trl(7) });
    expect(refused.status).toBe(403);
    expect(await instance.db.select().from(preferenceRecords)).toHaveLength(before);
    expect(await effects()).toEqual([]);
  });
});

describe("a member's answer and its consent", () => {
  let taskId: number;
  let recordId: number;

  beforeAll(async () => {
    const [task] = (await createTasks(instance.db, community, { policyId: policy.id, versionIri: null }, [
      { title: "Tone", prompt: [{ role: "user", content: "Am I doing well?" }], responses: [{ content: "You are doing your best." }, { content: "No." }], clauseIds: [] },
    ])).created;
    taskId = task!.id;
  });

  it("shared with followers tells mirrors the dataset changed", async () => {
    const answered = await call("POST", `/tasks/${taskId}/answer`, { token: tokens.mia, json: { choice: 0, consent: { train: true, federate: true, breakdown: false } } });
    expect(answered.status).toBe(200);
    expect((await effects()).map((e) => e.kind)).toEqual(["preferences.dataset-changed"]);
    recordId = (await call<{ id: number }[]>("GET", "/preferences/mine", { token: tokens.mia })).body[0]!.id;
  });

  it("refused to someone else's record changes nothing", async () => {
    const refused = await call("PATCH", `/preferences/${recordId}/consent`, { token: tokens.olga, json: { train: false, federate: false, breakdown: false } });
    expect(refused.status).toBe(403);
    expect((await first(instance.db.select().from(preferenceRecords).where(eq(preferenceRecords.id, recordId)).limit(1)))?.consentFederate).toBe(true);
    expect(await effects()).toEqual([]);
  });

  it("narrowed but still shared: mirrors sync the narrower terms", async () => {
    const narrowed = await call("PATCH", `/preferences/${recordId}/consent`, { token: tokens.mia, json: { train: false, federate: true, breakdown: false } });
    expect(narrowed.body).toEqual({ id: recordId, consent: { train: false, federate: true, breakdown: false } });
    expect(await effects()).toEqual([{ kind: "preferences.dataset-changed", payload: { policyIri: policy.iri }, createdAt: clock.now() }]);
  });

  it("withdrawn from sharing: mirrors are told to drop that record", async () => {
    clock.advanceHours(1);
    await call("PATCH", `/preferences/${recordId}/consent`, { token: tokens.mia, json: { train: false, federate: false, breakdown: false } });
    expect(await effects()).toEqual([{ kind: "preferences.record-withdrawn", payload: { policyIri: policy.iri, recordId }, createdAt: clock.now() }]);
  });

  it("no longer shared: a further narrowing tells no one", async () => {
    await call("PATCH", `/preferences/${recordId}/consent`, { token: tokens.mia, json: { train: false, federate: false, breakdown: false } });
    expect(await effects()).toEqual([]);
  });

  it("answered again without sharing, after a shared answer: mirrors sync and drop it", async () => {
    await call("POST", `/tasks/${taskId}/answer`, { token: tokens.mia, json: { choice: 1, consent: { train: false, federate: true, breakdown: false } } });
    await instance.db.delete(outbox);
    const again = await call("POST", `/tasks/${taskId}/answer`, { token: tokens.mia, json: { choice: 0, consent: { train: false, federate: false, breakdown: false } } });
    expect(again.status).toBe(200);
    expect((await effects()).map((e) => e.kind)).toEqual(["preferences.dataset-changed"]);
  });
});
