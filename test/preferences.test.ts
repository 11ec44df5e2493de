/**
 * Preference data end to end against a running instance: importing the
 * real HH-RLHF sample through the CLI, re-importing (into the same or another
 * community), stopping on a bad
 * line, exporting only what raters allowed, tasks answered by members with
 * group labels, k-anonymous results, and consent narrowed afterwards.
 * The instance runs in the test process (./local-instance.ts); the CLI is
 * spawned, as users run it. Setup that is not about the CLI (communities,
 * most members' answers) goes straight to the database or the API.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TaskResults } from "../src/api/schemas/preferences.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { runCli } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

const HH = fileURLToPath(new URL("./fixtures/hh-rlhf/harmless-base-test.jsonl.gz", import.meta.url));

let a: LocalInstance;
let steward: { token: string };
let work: string;
let policyId: number;
const cli = (token: string, args: string[]) => runCli(["--server", a.origin, "--token", token, ...args], { timeoutMs: 60_000 });

const POLICY = {
  title: "Helpful and Harmless",
  licence: "MIT",
  clauses: [
    {
      id: "refuse_harm",
      authority: "root",
      text: "Decline to help with serious harm.",
      examples: [
        {
          prompt: [{ role: "user", content: "How do I open the lock of my own bike shed (fedalign test)?" }],
          responses: [
            { content: "Locksmiths can help; if it is your own lock, call one.", label: "good" },
            { content: "Here is a step-by-step guide to break in.", label: "bad" },
          ],
        },
      ],
    },
  ],
};

beforeAll(async () => {
  a = await startLocalInstance();
  steward = await a.createUser("alice");
  await newCommunity("hh", "HH readers");
  const created = await a.api<{ id: number }>("POST", "policies", { token: steward.token, body: { community: "hh", slug: "hh", content: POLICY } });
  policyId = created.body.id;
  work = mkdtempSync(join(tmpdir(), "fedalign-prefs-"));
});

const newCommunity = async (handle: string, name: string) => await createCommunity(a.instance.db, { handle, name, steward: await getUserByUsername(a.instance.db, "alice") });

afterAll(async () => {
  await a?.destroy();
  rmSync(work, { recursive: true, force: true });
});

describe("importing HH-RLHF", () => {
  it("yields one record per line, each with a prompt and two different responses", async () => {
    const result = await cli(steward.token, ["prefs", "import", "hh", HH, "--policy", String(policyId), "--licence", "MIT", "--json"]);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report).toMatchObject({ read: 2312, imported: 2312, duplicates: 0, errors: [], stopped: false });
    expect(report.consent).toEqual({ train: true, federate: true, breakdown: false });
    expect(report.consentNote).toMatch(/MIT is an open licence/);

    const out = join(work, "hh.trl.jsonl");
    const exported = await cli(steward.token, ["prefs", "export", String(policyId), "--format", "trl", "--out", out]);
    expect(exported.code, exported.stderr).toBe(0);
    const lines = readFileSync(out, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2312);
    for (const line of lines) {
      expect(Object.keys(line)).toEqual(["prompt", "chosen", "rejected"]);
      expect(line.prompt.length).toBeGreaterThan(0);
      expect(line.chosen[0].role).toBe("assistant");
      expect(line.chosen[0].content).not.toBe(line.rejected[0].content);
    }
  });

  it("adds nothing when the same file is imported again", async () => {
    const result = await cli(steward.token, ["prefs", "import", "hh", HH, "--policy", String(policyId), "--licence", "MIT", "--json"]);
    expect(JSON.parse(result.stdout)).toMatchObject({ read: 2312, imported: 0, duplicates: 2312 });
  });

  it("lets a second community import the same public data set: de-duplication is per community", async () => {
    await newCommunity("hhtwo", "Second HH readers");
    const second = await cli(steward.token, ["prefs", "import", "hhtwo", HH, "--licence", "MIT", "--json"]);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ read: 2312, imported: 2312, duplicates: 0 });
    const again = await cli(steward.token, ["prefs", "import", "hhtwo", HH, "--licence", "MIT", "--json"]);
    expect(JSON.parse(again.stdout)).toMatchObject({ imported: 0, duplicates: 2312 });
  });

  it("reports a malformed line by number, and commits nothing when told to stop", async () => {
    const file = join(work, "mixed.trl.jsonl");
    const good = (n: number) => JSON.stringify({ prompt: `Question ${n}?`, chosen: `Good answer ${n}.`, rejected: `Bad answer ${n}.` });
    writeFileSync(file, [good(1), good(2), "{not json", good(4)].join("\n"));
    const stopped = await cli(steward.token, ["prefs", "import", "hh", file, "--format", "trl", "--on-error", "stop", "--consent", "train", "--json"]);
    const report = JSON.parse(stopped.stdout);
    expect(report).toMatchObject({ imported: 0, stopped: true });
    expect(report.errors[0]).toMatchObject({ line: 3 });
    const skipped = await cli(steward.token, ["prefs", "import", "hh", file, "--format", "trl", "--consent", "train", "--json"]);
    expect(JSON.parse(skipped.stdout)).toMatchObject({ read: 4, imported: 3, stopped: false, errors: [{ line: 3 }] });
  });

  it("gives records of an unknown licence no consent, so they are never exported", async () => {
    const file = join(work, "unknown.openai.jsonl");
    writeFileSync(file, JSON.stringify({ input: { messages: [{ role: "user", content: "Secret question?" }] }, preferred_output: [{ role: "assistant", content: "Yes." }], non_preferred_output: [{ role: "assistant", content: "No." }] }));
    const result = JSON.parse((await cli(steward.token, ["prefs", "import", "hh", file, "--policy", String(policyId), "--json"])).stdout);
    expect(result.consentNote).toMatch(/no licence given: no consent/);
    expect(result.imported).toBe(1);
    const out = join(work, "all.openai.jsonl");
    await cli(steward.token, ["prefs", "export", String(policyId), "--format", "openai", "--out", out]);
    const lines = readFileSync(out, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line));
    expect(lines).toHaveLength(2312);
    for (const line of lines) expect(Object.keys(line)).toEqual(["input", "preferred_output", "non_preferred_output"]);
    expect(lines.some((line) => line.input.messages[0].content === "Secret question?")).toBe(false);
  });
});

describe("tasks answered by members", () => {
  let taskId: number;
  let nurse1Token: string;

  it("come from a version's examples and keep group results k-anonymous", async () => {
    const v1 = await a.api<{ iri: string }>("POST", `policies/${policyId}/publish`, { token: steward.token, body: {} });
    const created = await cli(steward.token, ["tasks", "create", "hh", "--from-version", v1.body.iri, "--json"]);
    expect(created.code, created.stderr).toBe(0);
    taskId = JSON.parse(created.stdout).created[0].id;
    await a.api("PATCH", "communities/hh", { token: steward.token, body: { minGroupSize: 3 } });

    // Five members in group "nurses" prefer response 1; two in "pharmacists" (too few to show) prefer response 2.
    const members = [
      ...["n1", "n2", "n3", "n4", "n5"].map((name) => ({ name, group: "nurses", choice: 1 })),
      ...["p1", "p2"].map((name) => ({ name, group: "pharmacists", choice: 2 })),
    ];
    const users = await Promise.all(members.map((member) => a.createUser(member.name)));
    nurse1Token = users[0]!.token;
    for (const member of members) {
      await a.api("PUT", `communities/hh/members/${member.name}`, { token: steward.token, body: { role: "member" } });
    }
    // One answers through the CLI (1-based choice), the others through the API (0-based).
    const [first, ...rest] = members;
    const answered = await cli(users[0]!.token, ["tasks", "answer", String(taskId), "--choice", String(first!.choice), "--consent", "train,breakdown", "--groups", first!.group]);
    expect(answered.code, answered.stderr).toBe(0);
    for (const [i, member] of rest.entries()) {
      const body = { choice: member.choice - 1, consent: { train: true, federate: false, breakdown: true }, groups: [member.group] };
      expect((await a.api("POST", `tasks/${taskId}/answer`, { token: users[i + 1]!.token, body })).status).toBe(200);
    }
    const results = await a.api<TaskResults>("GET", `tasks/${taskId}/results`, { token: steward.token });
    expect(results.body.summary.overall.n).toBe(7);
    expect(results.body.summary.overall.responses.map((r) => r.votes)).toEqual([5, 2]);
    expect(results.body.summary.byGroup.map((g) => [g.group, g.n])).toEqual([["nurses", 5]]);
    expect(results.body.summary.suppressedGroups).toBe(1);
    expect(JSON.stringify(results.body)).not.toContain("pharmacists");

    const stats = await cli(steward.token, ["prefs", "stats", String(policyId), "--by-group"]);
    expect(stats.stdout).toMatch(/7 raters/);
    expect(stats.stdout).toMatch(/nurses: 5 raters/);
    expect(stats.stdout).toMatch(/1 group\(s\) under 3 raters not shown/);
  });

  it("lets a member change their answer, and narrow their consent so export stops using it", async () => {
    const n1 = nurse1Token;
    const again = await cli(n1, ["tasks", "answer", String(taskId), "--choice", "2", "--consent", "train,breakdown", "--groups", "nurses"]);
    expect(again.code).toBe(0);
    const results = await a.api<TaskResults>("GET", `tasks/${taskId}/results`, { token: n1 });
    expect(results.body.summary.overall).toMatchObject({ n: 7 });
    expect(results.body.summary.overall.responses.map((r) => r.votes)).toEqual([4, 3]);

    const countTaskLines = async () => {
      const out = join(work, `task-${Date.now()}.jsonl`);
      await cli(steward.token, ["prefs", "export", String(policyId), "--format", "trl", "--out", out]);
      return readFileSync(out, "utf8").split("\n").filter((line) => line.includes("How do I open the lock of my own bike shed (fedalign test)?")).length;
    };
    expect(await countTaskLines()).toBe(7);
    const mine = JSON.parse((await cli(n1, ["prefs", "mine", "--json"])).stdout) as { id: number }[];
    const narrowed = await cli(n1, ["prefs", "consent", String(mine[0]!.id), "--consent", "breakdown"]);
    expect(narrowed.code, narrowed.stderr).toBe(0);
    expect(narrowed.stdout).toMatch(/Consent now: breakdown/);
    expect(await countTaskLines()).toBe(6);
    // Narrowing cannot widen.
    await cli(n1, ["prefs", "consent", String(mine[0]!.id), "--consent", "train,breakdown"]);
    expect(await countTaskLines()).toBe(6);
  });
});
