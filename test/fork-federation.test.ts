/**
 * Forks across two real instances: B forks A's policy, A lists the fork,
 * both sides edit, B sees upstream changes (one clean, one in conflict),
 * resolves and publishes a version naming both parents, then offers its
 * change back upstream, where A's steward accepts it into A's draft.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchAp, runCli, waitFor } from "./harness.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

interface PolicyDetail {
  id: number;
  iri: string;
  versions: { iri: string; number: number; contentHash: string }[];
}
interface Clause {
  id: string;
  authority: string;
  text: string;
}
interface Content {
  title: string;
  licence: string;
  clauses: Clause[];
}

const CONTENT: Content = {
  title: "Community Care Policy",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "x", authority: "root", text: "Refer urgent cases to a human clinician." },
    { id: "y", authority: "user", text: "Answer in the language the patient writes in." },
    { id: "z", authority: "guideline", text: "Keep answers short." },
  ],
};

let a: LocalInstance;
let b: LocalInstance;
let alice: { token: string };
let bob: { token: string };
let upstream: PolicyDetail;
let forkId: number;
let forkIri: string;

const withClause = (content: Content, id: string, text: string): Content => ({
  ...content,
  clauses: content.clauses.map((clause) => (clause.id === id ? { ...clause, text } : clause)),
});

async function draftOf(instance: LocalInstance, token: string, id: number): Promise<Content> {
  return (await instance.api<Content>("GET", `policies/${id}/draft`, { token })).body;
}

beforeAll(async () => {
  [a, b] = await Promise.all([startLocalInstance(), startLocalInstance()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), b.createUser("bob")]);
  await createCommunity(a.instance.db, { handle: "nurses", name: "Nurses", steward: await getUserByUsername(a.instance.db, "alice") });
  await createCommunity(b.instance.db, { handle: "clinic", name: "Clinic", steward: await getUserByUsername(b.instance.db, "bob") });
  const created = await a.api<PolicyDetail>("POST", "policies", { token: alice.token, body: { community: "nurses", slug: "care", content: CONTENT } });
  expect(created.status).toBe(201);
  expect((await a.api("POST", `policies/${created.body.id}/publish`, { token: alice.token, body: {} })).status).toBe(201);
  upstream = (await a.api<PolicyDetail>("GET", `policies/${created.body.id}`)).body;
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
});

describe("forking", () => {
  it("records the origin on B and lists the fork on A", async () => {
    const v1 = upstream.versions[0]!;
    const fork = await runCli(["--server", b.origin, "--token", bob.token, "fork", v1.iri, "--into", "clinic", "--json"]);
    expect(fork.code, fork.stderr).toBe(0);
    const forked = JSON.parse(fork.stdout) as { id: number; iri: string; forkedFrom: { id: string; contentHash: string } };
    expect(forked.forkedFrom).toEqual({ id: v1.iri, contentHash: v1.contentHash });
    forkId = forked.id;
    forkIri = forked.iri;
    expect(await draftOf(b, bob.token, forkId)).toMatchObject({ clauses: CONTENT.clauses });

    await waitFor(async () => (await a.api<{ iri: string }[]>("GET", `policies/${upstream.id}/forks`)).body[0]?.iri === forkIri, {
      what: "A to list B's fork",
    });
    const collection = await fetchAp<{ orderedItems: string[] }>(`${upstream.iri}/forks`);
    expect(collection.orderedItems).toEqual([forkIri]);
    const forkDoc = await fetchAp<{ forkedFrom: { id: string } }>(forkIri);
    expect(forkDoc.forkedFrom.id).toBe(v1.iri);
  });
});

describe("taking in upstream changes", () => {
  it("shows y as clean and x as a conflict, and merges with a resolution", async () => {
    // B edits x and publishes its own first version.
    await b.api("PUT", `policies/${forkId}/draft`, { token: bob.token, body: withClause(CONTENT, "x", "Refer urgent cases to the on-call nurse.") });
    expect((await b.api("POST", `policies/${forkId}/publish`, { token: bob.token, body: {} })).status).toBe(201);
    // A edits y and x differently, and publishes v2.
    const aDraft = withClause(withClause(CONTENT, "y", "Answer in the patient's language."), "x", "Refer urgent cases to emergency services.");
    await a.api("PUT", `policies/${upstream.id}/draft`, { token: alice.token, body: aDraft });
    expect((await a.api("POST", `policies/${upstream.id}/publish`, { token: alice.token, body: {} })).status).toBe(201);

    const status = await waitFor(async () => {
      const s = await runCli(["--server", b.origin, "upstream", forkIri, "--json"]);
      const parsed = JSON.parse(s.stdout) as { upToDate: boolean; head: { number: number } | null; merge: { conflicts: { key: string }[]; clean: { fromTheirs: string[] } } };
      return parsed.head?.number === 2 ? parsed : undefined;
    }, { what: "B to receive upstream v2", timeoutMs: 30_000 });
    expect(status.upToDate).toBe(false);
    expect(status.merge.clean.fromTheirs).toEqual(["y"]);
    expect(status.merge.conflicts.map((c) => c.key)).toEqual(["x"]);
    const text = await runCli(["--server", b.origin, "upstream", forkIri]);
    expect(text.stdout).toMatch(/upstream has changes: version 2/);
    expect(text.stdout).toMatch(/conflict x/);

    const refused = await b.api<{ conflicts: unknown[] }>("POST", `policies/${forkId}/merge`, { token: bob.token, body: {} });
    expect(refused.status).toBe(409);
    expect(refused.body.conflicts).toHaveLength(1);

    const merged = await b.api("POST", `policies/${forkId}/merge`, { token: bob.token, body: { resolutions: { x: "ours" } } });
    expect(merged.status, JSON.stringify(merged.body)).toBe(200);
    const draft = await draftOf(b, bob.token, forkId);
    expect(draft.clauses.find((c) => c.id === "x")!.text).toBe("Refer urgent cases to the on-call nurse.");
    expect(draft.clauses.find((c) => c.id === "y")!.text).toBe("Answer in the patient's language.");
  });

  it("publishes the merge as a version naming both parents", async () => {
    const published = await b.api<{ iri: string; number: number }>("POST", `policies/${forkId}/publish`, { token: bob.token, body: { message: "Merged upstream v2." } });
    expect(published.status).toBe(201);
    const doc = await fetchAp<{ previousVersion: string; mergedFrom: { id: string }; forkedFrom: { id: string } }>(published.body.iri);
    const aV2 = (await a.api<PolicyDetail>("GET", `policies/${upstream.id}`)).body.versions[1]!;
    expect(doc.mergedFrom.id).toBe(aV2.iri);
    expect(doc.previousVersion).toBe(`${forkIri}/versions/1`);
    expect(doc.forkedFrom.id).toBe(upstream.versions[0]!.iri);
    const status = await b.api<{ upToDate: boolean }>("GET", `policies/${forkId}/upstream`);
    expect(status.body.upToDate).toBe(true);
  });
});

describe("offering changes upstream", () => {
  it("reaches A, is accepted into A's draft, and B sees it accepted", async () => {
    const offered = await runCli(["--server", b.origin, "--token", bob.token, "offer", forkIri, "--to-upstream", "--clause", "x", "--message", "Nurses are on call at night."]);
    expect(offered.code, offered.stderr).toBe(0);
    const offerIri = offered.stdout.trim();

    const incoming = await waitFor(async () => {
      const list = await a.api<{ iri: string; state: string; summary: string; preview: { conflicts: unknown[] } }[]>("GET", `policies/${upstream.id}/offers`);
      return list.body.find((o) => o.iri === offerIri);
    }, { what: "A to receive the offer" });
    expect(incoming.state).toBe("pending");
    expect(incoming.preview.conflicts).toEqual([]);
    const listed = await runCli(["--server", a.origin, "offers", upstream.iri]);
    expect(listed.stdout).toContain("Nurses are on call at night.");

    const accepted = await runCli(["--server", a.origin, "--token", alice.token, "offer", "accept", offerIri]);
    expect(accepted.code, accepted.stderr).toBe(0);
    const aDraft = await draftOf(a, alice.token, upstream.id);
    expect(aDraft.clauses.find((c) => c.id === "x")!.text).toBe("Refer urgent cases to the on-call nurse.");

    await waitFor(async () => {
      const mine = await b.api<{ iri: string; state: string }[]>("GET", `policies/${forkId}/offers`);
      return mine.body.find((o) => o.iri === offerIri)?.state === "accepted";
    }, { what: "B to see the offer accepted" });
  });

  it("explains an offer with nothing in it", async () => {
    const nothing = await b.api("POST", `policies/${forkId}/offers`, { token: bob.token, body: { clauses: ["z"] } });
    expect(nothing.status).toBe(400);
    expect((nothing.body as { detail: string }).detail).toMatch(/None of z changed/);
  });

  it("can be accepted as a proposal for the upstream members to vote on", async () => {
    const offered = await runCli(["--server", b.origin, "--token", bob.token, "offer", forkIri, "--to-upstream", "--clause", "x", "--message", "Please vote on this."]);
    expect(offered.code, offered.stderr).toBe(0);
    const offerIri = offered.stdout.trim();
    await waitFor(async () => (await a.api<{ iri: string }[]>("GET", `policies/${upstream.id}/offers`)).body.some((o) => o.iri === offerIri), {
      what: "A to receive the second offer",
    });
    const accepted = await runCli(["--server", a.origin, "--token", alice.token, "offer", "accept", offerIri, "--as-proposal"]);
    expect(accepted.code, accepted.stderr).toBe(0);
    expect(accepted.stdout).toMatch(/Accepted as a proposal/);
    const proposals = await a.api<{ title: string; state: string; changes: string }[]>("GET", `policies/${upstream.id}/proposals`);
    expect(proposals.body.map((p) => [p.title, p.state, p.changes])).toEqual([["Offer: Please vote on this.", "open", "1 clause edited"]]);
  });

  it("refuses an offer against an upstream version that was retracted", async () => {
    expect((await a.api("DELETE", `policies/${upstream.id}/versions/2`, { token: alice.token })).status).toBe(200);
    const mirror = await waitFor(async () => {
      const held = await b.api<{ versions: { number: number; retracted: boolean }[] }>("GET", `policies/lookup?ref=${encodeURIComponent(upstream.iri)}`);
      return held.body.versions.find((v) => v.number === 2)?.retracted ? held : undefined;
    }, { what: "B to learn of the retraction" });
    expect(mirror).toBeTruthy();
    const offer = await b.api<{ detail: string }>("POST", `policies/${forkId}/offers`, { token: bob.token, body: {} });
    expect(offer.status).toBe(400);
    expect(offer.body.detail).toMatch(/retracted version 2/);
  });
});
