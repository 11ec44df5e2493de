/**
 * Policies across three real instances: B's member and C's community follow
 * a policy on A; A publishes v1 and v2; both mirrors hold the same signed
 * versions and can diff them; tampered versions are refused.
 */
import { signRequest } from "@fedify/fedify";
import { Article, Object as ApObject } from "@fedify/vocab";
import { and, eq } from "drizzle-orm";
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { policies, policyVersions } from "../db/schema.ts";
import { contentHash } from "../src/policies/hash.ts";
import { configureSync, resetSync, type LogRecord } from "@logtape/logtape";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { fetchAp, freePort, rsaKeyOf, waitFor, type FollowView } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { first } from "../db/client.ts";

interface VersionView {
  iri: string;
  number: number;
  contentHash: string;
  changelog: string;
  retracted: boolean;
}
interface PolicyDetail {
  id: number;
  iri: string;
  local: boolean;
  title: string;
  versions: VersionView[];
}

const CONTENT = {
  title: "Care Assistant Policy",
  summary: "How assistants behave on the ward.",
  licence: "CC-BY-4.0",
  contexts: [{ domain: ["health"], audience: ["patients", "nurses"] }],
  sections: [{ id: "safety", title: "Safety", parent: null, text: "Patients first." }],
  clauses: [
    {
      id: "no_dosage_guessing",
      title: "No guessing at dosages",
      section: "safety",
      authority: "root",
      text: "Never state a medication dosage without citing the prescribing guideline it comes from.",
      rationale: "A wrong dose can kill.",
      examples: [
        {
          prompt: [{ role: "user", content: "How much paracetamol can I give a 4 year old?" }],
          responses: [
            { content: "Check the leaflet; the NHS guideline gives it by weight: ...", label: "good" },
            { content: "About 500 mg should be fine.", label: "bad", note: "an adult dose" },
          ],
        },
      ],
    },
    { id: "plain_language", section: "safety", authority: "user", text: "Use plain language unless the user is a clinician." },
    { id: "escalate", authority: "system", text: "Tell the user to call emergency services when symptoms are life-threatening." },
  ],
};

const logged: string[] = [];
let a: LocalInstance;
let b: LocalInstance;
let c: LocalInstance;
let alice: { token: string };
let bob: { token: string };
let carol: { token: string };
let policyIri: string;
let policyId: number;

/** What B or C hold of the policy (undefined until the first version arrived). */
async function mirrorOf(instance: LocalInstance): Promise<PolicyDetail | undefined> {
  const found = await instance.api<PolicyDetail>("GET", `policies/lookup?ref=${encodeURIComponent(policyIri)}`);
  return found.status === 200 ? found.body : undefined;
}

beforeAll(async () => {
  // The instances run in this process: their log records (B's refusals) are read from here.
  configureSync({
    reset: true,
    sinks: { memory: (record: LogRecord) => void logged.push(record.message.map(String).join("")) },
    loggers: [
      { category: ["fedalign"], lowestLevel: "info", sinks: ["memory"] },
      { category: ["logtape", "meta"], lowestLevel: "error", sinks: [] },
    ],
  });
  [a, b, c] = await Promise.all([startLocalInstance(), startLocalInstance(), startLocalInstance()]);
  [alice, bob, carol] = await Promise.all([a.createUser("alice"), b.createUser("bob"), c.createUser("carol")]);
  await createCommunity(a.instance.db, { handle: "nurses", name: "Nurses", steward: await getUserByUsername(a.instance.db, "alice") });
  await createCommunity(c.instance.db, { handle: "clinic", name: "Clinic", steward: await getUserByUsername(c.instance.db, "carol") });
  const imported = await a.api<{ policy: PolicyDetail }>("POST", "policies/import", {
    token: alice.token,
    body: { community: "nurses", format: "json", source: JSON.stringify(CONTENT), slug: "care" },
  });
  expect(imported.status, JSON.stringify(imported.body)).toBe(201);
  policyIri = imported.body.policy.iri;
  policyId = imported.body.policy.id;
  expect(policyIri).toBe(`${a.origin}/actors/nurses/policies/care`);
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy(), c?.destroy()]);
  resetSync();
});

describe("following a single policy", () => {
  it("works for a member (B) and for a community (C)", async () => {
    const byMember = await b.api<FollowView>("POST", "follows", { token: bob.token, body: { target: policyIri } });
    expect(byMember.status, JSON.stringify(byMember.body)).toBe(202);
    const byCommunity = await c.api<FollowView>("POST", "follows", { token: carol.token, body: { target: policyIri, as: "clinic" } });
    expect(byCommunity.status).toBe(202);
    await waitFor(async () => (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", {
      what: "B's follow of the policy to be accepted",
    });
    await waitFor(
      async () => (await c.api<FollowView[]>("GET", "follows?as=clinic", { token: carol.token })).body[0]?.state === "accepted",
      { what: "C's subscription to be accepted" },
    );
    const listed = (await b.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]!;
    expect(listed.actor).toMatchObject({ iri: policyIri, type: "Policy", name: "Care Assistant Policy" });
  });
});

describe("publishing", () => {
  let v1: VersionView;
  let v2: VersionView;

  it("sends v1 and v2 to both followers, with identical hashes", async () => {
    const first = await a.api<VersionView>("POST", `policies/${policyId}/publish`, { token: alice.token, body: { message: "Adopted at the March meeting." } });
    expect(first.status, JSON.stringify(first.body)).toBe(201);
    v1 = first.body;
    expect(v1.contentHash).toMatch(/^sha256:[0-9a-f]{64}$/);

    const draft = structuredClone(CONTENT);
    draft.clauses[1]!.text = "Use plain, everyday language unless the user is a clinician or asks for technical terms.";
    draft.clauses.push({ id: "interpreters", authority: "developer", text: "Offer a professional interpreter when the patient prefers another language." });
    expect((await a.api("PUT", `policies/${policyId}/draft`, { token: alice.token, body: draft })).status).toBe(200);
    const second = await a.api<VersionView>("POST", `policies/${policyId}/publish`, { token: alice.token, body: {} });
    expect(second.status).toBe(201);
    v2 = second.body;
    expect(v2.changelog).toMatch(/1 clause added.*1 edited|added.*edited/);

    for (const mirror of [b, c]) {
      const held = await waitFor(async () => {
        const found = await mirrorOf(mirror);
        return found && found.versions.length === 2 ? found : undefined;
      }, { what: `${mirror.origin} to hold v1 and v2`, timeoutMs: 30_000 }).catch((error) => {
        const clean = (log: string) => log.split("\n").filter((line) => !line.includes("': 404")).join("\n").slice(-5000);
        console.log("LOG\n", clean(logged.join("\n")));
        throw error;
      });
      expect(held.local).toBe(false);
      expect(held.versions.map((v) => [v.iri, v.contentHash])).toEqual([
        [v1.iri, v1.contentHash],
        [v2.iri, v2.contentHash],
      ]);
    }
  });

  it("lets each mirror show the diff between the versions", async () => {
    for (const mirror of [b, c]) {
      const held = (await mirrorOf(mirror))!;
      const diff = await mirror.api<{ clauses: { added: { id: string }[]; edited: { id: string }[] } }>(
        "GET",
        `policies/${held.id}/diff?from=1&to=2`,
      );
      expect(diff.status).toBe(200);
      expect(diff.body.clauses.added.map((x) => x.id)).toEqual(["interpreters"]);
      expect(diff.body.clauses.edited.map((x) => x.id)).toEqual(["plain_language"]);
    }
  });

  it("is a plain ActivityStreams Article to other software", async () => {
    const json = await fetchAp(v2.iri);
    const object = await ApObject.fromJsonLd(json);
    expect(object).toBeInstanceOf(Article);
    expect(object.name?.toString()).toBe("Care Assistant Policy (version 2)");
    // Its content is a summary for timelines (with a link); the policy itself is normativeContent.
    expect(object.content?.toString()).toContain(`href="${v2.iri}"`);
    expect(object.content?.toString()).toContain("4 clauses");
    expect(object.content?.toString()).not.toContain("Offer a professional interpreter");
    expect(JSON.stringify((json as { normativeContent: unknown }).normativeContent)).toContain("Offer a professional interpreter");
    // The hash anyone can recompute from the document matches.
    expect(contentHash((json as { normativeContent: never }).normativeContent)).toBe(v2.contentHash);
  });
});

describe("a follower who arrives later", () => {
  it("receives the next version and fetches the history before it", async () => {
    const d = await startLocalInstance();
    try {
      const dave = await d.createUser("dave");
      expect((await d.api("POST", "follows", { token: dave.token, body: { target: policyIri } })).status).toBe(202);
      await waitFor(async () => (await d.api<FollowView[]>("GET", "follows", { token: dave.token })).body[0]?.state === "accepted", {
        what: "D's follow to be accepted",
      });
      const draft = (await a.api<typeof CONTENT>("GET", `policies/${policyId}/draft`, { token: alice.token })).body;
      draft.summary = "How assistants behave on the ward and in the community.";
      await a.api("PUT", `policies/${policyId}/draft`, { token: alice.token, body: draft });
      const v3 = await a.api<VersionView>("POST", `policies/${policyId}/publish`, { token: alice.token, body: {} });
      expect(v3.status).toBe(201);
      const held = await waitFor(async () => {
        const found = await mirrorOf(d);
        return found && found.versions.length === 3 ? found : undefined;
      }, { what: "D to hold v1, v2 and v3" });
      const origin = (await a.api<PolicyDetail>("GET", `policies/${policyId}`)).body;
      expect(held.versions.map((v) => [v.number, v.contentHash])).toEqual(origin.versions.map((v) => [v.number, v.contentHash]));
    } finally {
      await d.destroy();
    }
  });
});

describe("retracting", () => {
  it("marks the version retracted on the mirrors and serves a Tombstone", async () => {
    const published = await a.api<PolicyDetail>("GET", `policies/${policyId}`);
    const v2 = published.body.versions[1]!;
    const ldJson = await fetch(v2.iri, { headers: { Accept: 'application/ld+json; profile="https://www.w3.org/ns/activitystreams"' } });
    expect(ldJson.status).toBe(200);
    expect(((await ldJson.json()) as { id: string }).id).toBe(v2.iri);

    const retracted = await a.api<{ retracted: boolean }>("DELETE", `policies/${policyId}/versions/2`, { token: alice.token });
    expect(retracted.status).toBe(200);
    expect(retracted.body.retracted).toBe(true);
    const gone = await fetch(v2.iri, { headers: { Accept: "application/activity+json" } });
    expect(gone.status).toBe(410);
    expect(((await gone.json()) as { type: string }).type).toBe("Tombstone");
    for (const mirror of [b, c]) {
      await waitFor(async () => (await mirrorOf(mirror))?.versions[1]?.retracted === true, { what: `${mirror.origin} to see the retraction` });
    }
  });
});

describe("tampered versions are refused", () => {
  let fake: Server;

  afterAll(() => fake?.close());

  async function announce(target: LocalInstance, versionIri: string) {
    const key = await rsaKeyOf(a, "nurses");
    const community = a.actorUri("nurses");
    const body = JSON.stringify({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${community}#updates/${crypto.randomUUID()}`,
      type: "Update",
      actor: community,
      object: { id: versionIri, type: "Article", attributedTo: community, name: "Care Assistant Policy (version 3)", content: "<p>v3</p>" },
    });
    const request = new Request(`${target.origin}/inbox`, { method: "POST", headers: { "Content-Type": "application/activity+json" }, body });
    const response = await fetch(await signRequest(request, key.privateKey, key.keyId));
    expect(response.status).toBe(202);
  }

  /** Writes a forged v3 into A's database, so A itself serves it. */
  async function plantOnA(number: number, mutate: (doc: Record<string, unknown>) => void) {
    const { db } = a.instance;
    {
      const policy = (await first(db.select().from(policies).where(eq(policies.iri, policyIri)).limit(1)))!;
      const v2 = (await first(db.select().from(policyVersions).where(and(eq(policyVersions.policyId, policy.id), eq(policyVersions.number, 2))).limit(1)))!;
      const doc = structuredClone(v2.document);
      // A fresh IRI each time (after the genuine v1-v3), so no cache on B can answer for it.
      const iri = `${policyIri}/versions/${number}`;
      Object.assign(doc, { id: iri, url: iri, versionNumber: number, previousVersion: v2.iri });
      mutate(doc);
      await db.delete(policyVersions).where(eq(policyVersions.iri, iri));
      await db.insert(policyVersions)
        .values({ policyId: policy.id, iri, number, contentHash: String(doc.contentHash), changelog: "", document: doc, publishedAt: new Date(), receivedAt: new Date() });
      return iri;
    }
  }

  /** B logs the refusal with its reason, and still holds only the genuine versions. */
  async function expectRefused(iri: string, reason: RegExp) {
    const line = await waitFor(
      () => logged.find((l) => l.includes("Refused policy version") && l.includes(iri)),
      { what: `B to refuse ${iri}` },
    );
    expect(line).toMatch(reason);
    expect((await mirrorOf(b))!.versions.map((v) => v.number)).toEqual([1, 2, 3]);
  }

  it("refuses a version whose content does not match its hash", async () => {
    const iri = await plantOnA(4, (doc) => {
      const content = doc.normativeContent as { clauses: { text: string }[] };
      content.clauses[0]!.text = "Any dose is fine.";
    });
    await announce(b, iri);
    await expectRefused(iri, /content hash does not match/);
  });

  it("refuses a version whose hash was recomputed but whose proof was not", async () => {
    const iri = await plantOnA(5, (doc) => {
      const content = doc.normativeContent as { clauses: { text: string }[] };
      content.clauses[0]!.text = "Any dose is fine.";
      doc.contentHash = contentHash(content as never);
    });
    await announce(b, iri);
    await expectRefused(iri, /integrity proof does not verify/);
  });

  it("refuses a version served by another origin than the community's", async () => {
    const port = await freePort();
    const fakeIri = `http://127.0.0.1:${port}/actors/nurses/policies/care/versions/6`;
    const v1doc = await fetchAp<Record<string, unknown>>(`${policyIri}/versions/1`);
    fake = createServer((_req, res) => {
      res.writeHead(200, { "Content-Type": "application/activity+json" });
      res.end(JSON.stringify({ ...v1doc, id: fakeIri, versionNumber: 6 }));
    });
    await new Promise<void>((resolve) => fake.listen(port, "127.0.0.1", resolve));
    await announce(b, fakeIri);
    await expectRefused(fakeIri, /not on the origin of/);
  });
});
