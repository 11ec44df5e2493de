/**
 * Issue 12, item 10: consent in results. A task's answers come with mixed
 * consent; results shown to anyone outside the community (signed out, or
 * signed in elsewhere) count only the answers whose raters allowed them to
 * leave the community, on every route that shows results: the task's
 * results, the community's stats, and the web results page. Members see all.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../src/accounts/tokens.ts";
import { createUser, type User } from "../src/accounts/users.ts";
import { createCommunity, setMembership } from "../src/communities.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import type { PreferenceStats, TaskResults } from "../src/api/schemas/preferences.ts";
import { cleanupDir } from "./harness.ts";

const ORIGIN = "http://127.0.0.1:9";
const PASSWORD = "a long enough passphrase";

let instance: Instance;
let dataDir: string;
const tokens: Record<string, string> = {};
let taskId: number;

async function api<T>(method: string, path: string, options: { token?: string; body?: unknown } = {}): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  const response = await instance.app.request(`${ORIGIN}/api/v1${path}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

// Six members answer: three allow sharing beyond the community (federate), three do not.
// Response 0 is preferred only by those who keep their answer inside.
const ANSWERS = [
  { name: "m1", choice: 0, consent: { train: true, federate: false, breakdown: true } },
  { name: "m2", choice: 0, consent: { train: false, federate: false, breakdown: true } },
  { name: "m3", choice: 0, consent: { train: false, federate: false, breakdown: false } },
  { name: "m4", choice: 1, consent: { train: false, federate: true, breakdown: true } },
  { name: "m5", choice: 1, consent: { train: true, federate: true, breakdown: true } },
  { name: "m6", choice: 1, consent: { train: false, federate: true, breakdown: false } },
];

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-consent-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: false });
  const names = ["stella", "outsider", ...ANSWERS.map((a) => a.name)];
  const users: User[] = await Promise.all(names.map(async (username) => await createUser(instance.db, { username, password: PASSWORD })));
  const [stella] = users;
  const community = await createCommunity(instance.db, { handle: "nurses", name: "Nurses", steward: stella! });
  await createCommunity(instance.db, { handle: "elsewhere", name: "Elsewhere", steward: users[1]! });
  for (const user of users.slice(2)) await setMembership(instance.db, community, user, "member");
  for (const user of users) tokens[user.username] = (await createToken(instance.db, user.id, "test")).token;
  await api("PATCH", "/communities/nurses", { token: tokens.stella, body: { minGroupSize: 2 } });
  const created = await api<{ created: { id: number }[] }>("POST", "/tasks", {
    token: tokens.stella,
    body: { community: "nurses", tasks: [{ title: "Night shifts", prompt: [{ role: "user", content: "Swap my shift?" }], responses: [{ content: "Yes" }, { content: "No" }] }] },
  });
  expect(created.status).toBe(201);
  taskId = created.body.created[0]!.id;
  for (const answer of ANSWERS) {
    const sent = await api("POST", `/tasks/${taskId}/answer`, {
      token: tokens[answer.name],
      body: { choice: answer.choice, groups: ["ward"], consent: answer.consent },
    });
    expect(sent.status).toBe(200);
  }
});

afterAll(async () => {
  await instance?.close();
  cleanupDir(dataDir);
});

describe("results of a task with mixed consent", () => {
  it("count every answer for the community's members", async () => {
    const results = await api<TaskResults>("GET", `/tasks/${taskId}/results`, { token: tokens.m1 });
    expect(results.body.audience).toBe("members");
    expect(results.body.summary.overall.n).toBe(6);
    expect(results.body.summary.overall.responses.map((r) => r.votes)).toEqual([3, 3]);
  });

  it("count only answers allowed to leave the community, signed out or signed in elsewhere", async () => {
    for (const token of [undefined, tokens.outsider]) {
      const results = await api<TaskResults>("GET", `/tasks/${taskId}/results`, { token });
      expect(results.body.audience).toBe("public");
      expect(results.body.summary.overall.n).toBe(3);
      expect(results.body.summary.counts.raters).toBe(3);
      expect(results.body.summary.overall.responses.map((r) => r.votes)).toEqual([0, 3]);
      // Group results: only m4 and m5 allow both.
      expect(results.body.summary.byGroup).toEqual([expect.objectContaining({ group: "ward", n: 2 })]);
    }
  });

  it("apply the same rule to the community's stats", async () => {
    const stats = await api<PreferenceStats>("GET", "/preferences/stats?community=nurses");
    expect(stats.body.audience).toBe("public");
    expect(stats.body.tasks.map((t) => [t.summary.overall.n, t.summary.overall.responses.map((r) => r.votes)])).toEqual([[3, [0, 3]]]);
    const asMember = await api<PreferenceStats>("GET", "/preferences/stats?community=nurses", { token: tokens.m2 });
    expect(asMember.body.tasks[0]!.summary.overall.n).toBe(6);
  });

  it("show the public count on the web results page to someone signed out", async () => {
    const html = await (await instance.app.request(`${ORIGIN}/tasks/${taskId}/results`)).text();
    expect(html).toContain("count only the answers whose raters allowed them to be shared beyond the community");
    expect(html).toContain("all 3 raters");
    expect(html).not.toContain("all 6 raters");
  });

  it("drop an answer from public results as soon as its rater withdraws sharing", async () => {
    const mine = await api<{ id: number; task: number }[]>("GET", "/preferences/mine", { token: tokens.m5 });
    const record = mine.body.find((r) => r.task === taskId)!;
    const narrowed = await api("PATCH", `/preferences/${record.id}/consent`, { token: tokens.m5, body: { train: true, federate: false, breakdown: true } });
    expect(narrowed.status).toBe(200);
    const results = await api<TaskResults>("GET", `/tasks/${taskId}/results`);
    expect(results.body.summary.overall.n).toBe(2);
    expect((await api<TaskResults>("GET", `/tasks/${taskId}/results`, { token: tokens.m5 })).body.summary.overall.n).toBe(6);
  });
});
