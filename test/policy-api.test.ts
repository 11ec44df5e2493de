/**
 * Authoring policies through the JSON API, in-process: drafts, clause
 * edits, validation errors a person can act on, permissions, publishing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../src/accounts/tokens.ts";
import { createUser } from "../src/accounts/users.ts";
import { getCommunity, setMembership } from "../src/communities.ts";
import { openInstance, type Instance } from "../src/instance.ts";

const ORIGIN = "http://127.0.0.1:9";
let instance: Instance;
let dataDir: string;
const tokens = { steward: "", member: "", outsider: "" };
let policyId: number;

async function api<T = Record<string, unknown>>(method: string, path: string, token?: string, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await instance.app.request(`${ORIGIN}/api/v1/${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

const DRAFT = {
  title: "Classroom Assistant",
  licence: "CC-BY-SA-4.0",
  contexts: [{ domain: ["education"], audience: ["students"], locale: ["en-GB"] }],
  clauses: [
    { id: "no_answers", authority: "developer", text: "Give hints, not answers, for graded homework." },
    { id: "kind_tone", authority: "guideline", text: "Be encouraging." },
  ],
};

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-policy-api-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: false });
  const db = instance.db;
  for (const name of ["steward", "member", "outsider"] as const) {
    const user = await createUser(db, { username: name, password: "long password" });
    tokens[name] = (await createToken(db, user.id)).token;
  }
  const created = await api("POST", "communities", tokens.steward, { handle: "school", name: "School District" });
  expect(created.status).toBe(201);
  const { findUserByUsername } = await import("../src/accounts/users.ts");
  await setMembership(db, await getCommunity(db, "school"), (await findUserByUsername(db, "member"))!, "member");
});

afterAll(async () => {
  await instance.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("drafts", () => {
  it("creates a policy with a draft and a slug from its title", async () => {
    const created = await api<{ id: number; iri: string; headVersion: null }>("POST", "policies", tokens.steward, { community: "school", content: DRAFT });
    expect(created.status).toBe(201);
    expect(created.body.iri).toBe(`${ORIGIN}/actors/school/policies/classroom-assistant`);
    expect(created.body.headVersion).toBeNull();
    policyId = created.body.id;
  });

  it("names every problem of an invalid draft with its path", async () => {
    const bad = {
      ...DRAFT,
      clauses: [
        { id: "dup", authority: "root", text: "One." },
        { id: "dup", authority: "root", text: "Two." },
      ],
    };
    const reply = await api<{ issues: { path: string; message: string }[] }>("PUT", `policies/${policyId}/draft`, tokens.steward, bad);
    expect(reply.status).toBe(400);
    expect(reply.body.issues).toContainEqual({ path: "clauses.1.id", message: 'duplicate clause id "dup"' });

    const worse = {
      ...DRAFT,
      contexts: [{ locale: ["not a tag!"] }],
      clauses: [{ id: "x", authority: "sovereign", text: "   " }],
    };
    const reply2 = await api<{ issues: { path: string; message: string }[] }>("PUT", `policies/${policyId}/draft`, tokens.steward, worse);
    expect(reply2.status).toBe(400);
    const paths = reply2.body.issues.map((issue) => issue.path);
    expect(paths).toEqual(expect.arrayContaining(["contexts.0.locale.0", "clauses.0.authority", "clauses.0.text"]));
    expect(reply2.body.issues.find((i) => i.path === "clauses.0.authority")?.message).toMatch(/use one of root, system, developer, user, guideline/);
  });

  it("edits one clause at a time, keeping the draft valid", async () => {
    const added = await api<{ clauses: { id: string }[] }>("PUT", `policies/${policyId}/draft/clauses/privacy?position=0`, tokens.steward, {
      id: "privacy",
      authority: "root",
      text: "Never ask students for personal information.",
    });
    expect(added.status).toBe(200);
    expect(added.body.clauses.map((c) => c.id)).toEqual(["privacy", "no_answers", "kind_tone"]);

    const unknownSection = await api("PUT", `policies/${policyId}/draft/clauses/kind_tone`, tokens.steward, {
      id: "kind_tone",
      section: "nowhere",
      authority: "guideline",
      text: "Be warm.",
    });
    expect(unknownSection.status).toBe(400);
    expect(unknownSection.body.detail).toMatch(/unknown section "nowhere"/);

    const removed = await api<{ clauses: { id: string }[] }>("DELETE", `policies/${policyId}/draft/clauses/kind_tone`, tokens.steward);
    expect(removed.body.clauses.map((c) => c.id)).toEqual(["privacy", "no_answers"]);
    expect((await api("DELETE", `policies/${policyId}/draft/clauses/kind_tone`, tokens.steward)).status).toBe(404);
  });

  it("lets members read the draft and only stewards change it", async () => {
    expect((await api("GET", `policies/${policyId}/draft`, tokens.member)).status).toBe(200);
    expect((await api("GET", `policies/${policyId}/draft`, tokens.outsider)).status).toBe(403);
    expect((await api("PUT", `policies/${policyId}/draft`, tokens.member, DRAFT)).status).toBe(403);
    expect((await api("POST", `policies/${policyId}/publish`, tokens.member, {})).status).toBe(403);
  });
});

describe("publishing", () => {
  it("numbers versions, refuses an unchanged draft, and diffs against the draft", async () => {
    const v1 = await api<{ number: number; changelog: string; contentHash: string }>("POST", `policies/${policyId}/publish`, tokens.steward, {});
    expect(v1.status).toBe(201);
    expect(v1.body).toMatchObject({ number: 1, changelog: "First version." });
    const again = await api("POST", `policies/${policyId}/publish`, tokens.steward, {});
    expect(again.status).toBe(409);
    expect(again.body.detail).toMatch(/identical to version 1/);

    await api("PUT", `policies/${policyId}/draft/clauses/no_answers`, tokens.steward, {
      id: "no_answers",
      authority: "developer",
      text: "Give hints, not full answers, for graded homework.",
    });
    const pending = await api<{ clauses: { edited: { id: string }[] } }>("GET", `policies/${policyId}/diff?from=1&to=draft`, tokens.member);
    expect(pending.body.clauses.edited.map((e) => e.id)).toEqual(["no_answers"]);
    expect((await api("GET", `policies/${policyId}/diff?from=1&to=draft`)).status).toBe(403);

    const v2 = await api<{ number: number; changelog: string }>("POST", `policies/${policyId}/publish`, tokens.steward, { message: "Softer wording." });
    expect(v2.body).toMatchObject({ number: 2, changelog: "Softer wording." });
    const version = await api<{ content: { clauses: { id: string }[] }; document: { proof: { cryptosuite: string } } }>("GET", `policies/${policyId}/versions/2`);
    expect(version.body.document.proof.cryptosuite).toBe("eddsa-jcs-2022");
    expect(version.body.content.clauses).toHaveLength(2);
  });

  it("publishes the JSON Schema of the format", async () => {
    const schema = await api<{ $schema: string; properties: Record<string, unknown> }>("GET", "policies/schema.json");
    expect(schema.body.$schema).toMatch(/json-schema.org/);
    expect(Object.keys(schema.body.properties)).toEqual(expect.arrayContaining(["title", "licence", "clauses", "sections", "contexts"]));
  });

  it("finds a policy by community/slug, IRI and version IRI", async () => {
    const bySlug = await api<{ id: number }>("GET", "policies/lookup?ref=school/classroom-assistant");
    expect(bySlug.body.id).toBe(policyId);
    const byVersion = await api<{ id: number; version: number }>(
      "GET",
      `policies/lookup?ref=${encodeURIComponent(`${ORIGIN}/actors/school/policies/classroom-assistant/versions/1`)}`,
    );
    expect(byVersion.body).toMatchObject({ id: policyId, version: 1 });
    expect((await api("GET", "policies/lookup?ref=school/nope")).status).toBe(404);
  });
});
