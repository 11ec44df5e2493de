/**
 * Bad requests around forks, offers and annotations get a clear error and
 * write nothing. In-process, with one instance.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { countRows } from "../db/client.ts";
import { annotations, offers, policies } from "../db/schema.ts";
import { createToken } from "../src/accounts/tokens.ts";
import { createUser } from "../src/accounts/users.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { freePort } from "./harness.ts";

const ORIGIN = "http://127.0.0.1:9";
let instance: Instance;
let dataDir: string;
let token: string;
let policyId: number;
let versionIri: string;

async function api<T = { detail: string }>(method: string, path: string, body?: unknown) {
  const response = await instance.app.request(`${ORIGIN}/api/v1/${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const counts = async () => ({
  policies: await countRows(instance.db, policies),
  annotations: await countRows(instance.db, annotations),
  offers: await countRows(instance.db, offers),
});

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-fork-bad-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: true });
  const user = await createUser(instance.db, { username: "alice", password: "long password" });
  token = (await createToken(instance.db, user.id)).token;
  await api("POST", "communities", { handle: "nurses", name: "Nurses" });
  const created = await api<{ id: number }>("POST", "policies", {
    community: "nurses",
    content: { title: "Ward Policy", licence: "CC0-1.0", clauses: [{ id: "a", authority: "root", text: "Be careful." }] },
  });
  policyId = created.body.id;
  versionIri = (await api<{ iri: string }>("POST", `policies/${policyId}/publish`, {})).body.iri;
});

afterAll(async () => {
  await instance.close();
  rmSync(dataDir, { recursive: true, force: true });
});

describe("nothing half-written", () => {
  it("annotating a clause id the version does not have", async () => {
    const before = await counts();
    const reply = await api("POST", "annotations", { target: `${versionIri}/clauses/nope`, motivation: "comment", text: "Hello" });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toMatch(/this version has no clause "nope"/);
    expect(await counts()).toEqual(before);
  });

  it("annotation text over the size limit", async () => {
    const before = await counts();
    const reply = await api("POST", "annotations", { target: `${versionIri}/clauses/a`, motivation: "comment", text: "x".repeat(5001) });
    expect(reply.status).toBe(400);
    expect(reply.body.detail).toMatch(/at most 5000 characters/);
    expect(await counts()).toEqual(before);
  });

  it("a suggested edit without the suggestion, and a quote that is not in the clause", async () => {
    const before = await counts();
    const noSuggestion = await api("POST", "annotations", { target: `${versionIri}/clauses/a`, motivation: "suggest-edit", text: "Reword it" });
    expect(noSuggestion.status).toBe(400);
    expect(noSuggestion.body.detail).toMatch(/suggest-edit/);
    const badQuote = await api("POST", "annotations", { target: `${versionIri}/clauses/a`, motivation: "comment", text: "Hm", quote: "reckless" });
    expect(badQuote.status).toBe(400);
    expect(badQuote.body.detail).toMatch(/does not occur/);
    expect(await counts()).toEqual(before);
  });

  it("forking a version whose server cannot be reached", async () => {
    const before = await counts();
    const port = await freePort();
    const reply = await api("POST", "policies/fork", { version: `http://127.0.0.1:${port}/actors/x/policies/y/versions/1`, into: "nurses" });
    expect(reply.status).toBe(502);
    expect(reply.body.detail).toMatch(/Cannot fetch/);
    expect(await counts()).toEqual(before);
  });

  it("forking into one's own community, and offering from a policy that is not a fork", async () => {
    const before = await counts();
    const own = await api("POST", "policies/fork", { version: versionIri, into: "nurses" });
    expect(own.status).toBe(400);
    expect(own.body.detail).toMatch(/already belongs to nurses/);
    const offer = await api("POST", `policies/${policyId}/offers`, {});
    expect(offer.status).toBe(400);
    expect(offer.body.detail).toMatch(/not a fork/);
    const upstream = await api("GET", `policies/${policyId}/upstream`);
    expect(upstream.status).toBe(400);
    expect(await counts()).toEqual(before);
  });

  it("deciding on an offer that does not exist", async () => {
    const reply = await api("POST", "offers/accept", { offer: `${ORIGIN}/actors/nurses/policies/ward-policy/offers/nope` });
    expect(reply.status).toBe(404);
    expect(reply.body.detail).toMatch(/No offer/);
  });
});
