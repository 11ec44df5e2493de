/**
 * Following works on first contact, between real Fedalign instances: a
 * member who follows a policy that already has versions holds them within
 * seconds, without waiting for a new publish; a community that follows
 * another community holds every policy it published (read from its outbox,
 * across pages); a clause of another instance can be annotated by its IRI
 * without following anything. Signatures verified, over loopback.
 */
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { follows } from "../db/schema.ts";
import { collectionItems, fetchAp, waitFor, type FollowView } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

interface PolicyDetail {
  iri: string;
  local: boolean;
  versions: { iri: string; number: number; contentHash: string }[];
}

const content = (title: string, text: string) => ({
  title,
  licence: "CC-BY-4.0",
  clauses: [
    { id: "escalate", authority: "root", text: "Tell the user to call emergency services when they describe chest pain." },
    { id: "tone", authority: "guideline", text },
  ],
});

/** A holds the policies; B and C follow them. */
let a: LocalInstance, b: LocalInstance, c: LocalInstance;
let alice: { token: string }, bob: { token: string }, carol: { token: string };
const policyIris: Record<string, string> = {};

async function createAndPublish(slug: string, title: string, texts: string[]): Promise<void> {
  const created = await a.api<{ id: number; iri: string }>("POST", "policies", { token: alice.token, body: { community: "nurses", slug, content: content(title, texts[0]!) } });
  expect(created.status, JSON.stringify(created.body)).toBe(201);
  policyIris[slug] = created.body.iri;
  for (const [i, text] of texts.entries()) {
    if (i > 0) expect((await a.api("PUT", `policies/${created.body.id}/draft`, { token: alice.token, body: content(title, text) })).status).toBe(200);
    const published = await a.api("POST", `policies/${created.body.id}/publish`, { token: alice.token, body: { message: `Version ${i + 1}.` } });
    expect(published.status, JSON.stringify(published.body)).toBe(201);
  }
}

async function held(instance: LocalInstance, iri: string): Promise<PolicyDetail | undefined> {
  const found = await instance.api<PolicyDetail>("GET", `policies/lookup?ref=${encodeURIComponent(iri)}`);
  return found.status === 200 ? found.body : undefined;
}

beforeAll(async () => {
  [a, b, c] = await Promise.all([startLocalInstance(), startLocalInstance(), startLocalInstance()]);
  [alice, bob, carol] = await Promise.all([a.createUser("alice"), b.createUser("bob"), c.createUser("carol")]);
  for (const created of await Promise.all([
    a.api("POST", "communities", { token: alice.token, body: { handle: "nurses", name: "Nurses" } }),
    c.api("POST", "communities", { token: carol.token, body: { handle: "clinic", name: "Clinic" } }),
  ])) {
    expect(created.status, JSON.stringify(created.body)).toBe(201);
  }
  await createAndPublish("ward", "Ward Policy", ["Be calm.", "Be calm and kind."]);
  await createAndPublish("triage", "Triage Policy", ["Ask about pain first."]);
  // Enough versions that the community's outbox spans two pages.
  await createAndPublish("handover", "Handover Notes", Array.from({ length: 21 }, (_, i) => `Hand over in ${i + 1} minutes.`));
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy(), c?.destroy()]);
});

describe("outboxes", () => {
  it("list what the community published, newest first, paged; and per policy", async () => {
    const community = await fetchAp<{ outbox: string }>(a.actorUri("nurses"));
    const outbox = await fetchAp<{ totalItems: number; first: string }>(community.outbox);
    expect(outbox.totalItems).toBe(24);
    const first = await fetchAp<{ orderedItems: { type: string; object: { id: string } }[]; next?: string }>(outbox.first);
    expect(first.orderedItems).toHaveLength(20);
    expect(first.next).toBeDefined();
    expect(first.orderedItems[0]).toMatchObject({ type: "Create", object: { id: `${policyIris.handover}/versions/21` } });
    const all = await collectionItems(community.outbox);
    expect(all).toHaveLength(24);
    expect(new Set(all).size).toBe(24);

    const ward = await fetchAp<{ outbox: string }>(policyIris.ward!);
    const wardItems = await collectionItems(ward.outbox);
    expect(wardItems).toEqual([`${policyIris.ward}/versions/2#create`, `${policyIris.ward}/versions/1#create`]);
  });
});

describe("following on first contact", () => {
  it("mirrors both versions of a followed policy within seconds, without a new publish", async () => {
    const followed = await b.api<FollowView>("POST", "follows", { token: bob.token, body: { target: policyIris.ward } });
    expect(followed.status, JSON.stringify(followed.body)).toBe(202);
    const started = Date.now();
    const mirror = await waitFor(
      async () => {
        const policy = await held(b, policyIris.ward!);
        return policy?.versions.length === 2 ? policy : undefined;
      },
      { what: "B to mirror both versions", timeoutMs: 15_000 },
    );
    expect(Date.now() - started).toBeLessThan(15_000);
    const origin = (await a.api<PolicyDetail>("GET", `policies/lookup?ref=${encodeURIComponent(policyIris.ward!)}`)).body;
    expect(mirror.local).toBe(false);
    expect(mirror.versions.map((v) => [v.number, v.contentHash])).toEqual(origin.versions.map((v) => [v.number, v.contentHash]));
    // Only what was followed.
    expect(await held(b, policyIris.triage!)).toBeUndefined();
  });

  it("tells the policy's community when its follower stops following, so later versions are not sent", async () => {
    const following = await b.api<FollowView[]>("GET", "follows", { token: bob.token });
    const follow = following.body.find((f) => f.actor.iri === policyIris.ward);
    expect(follow, JSON.stringify(following.body)).toBeDefined();
    const followersOfWard = async () =>
      (await a.instance.db.select().from(follows).where(eq(follows.followeeIri, policyIris.ward!))).map((row) => row.followerIri);
    expect(await followersOfWard()).toEqual([b.actorUri("bob")]);
    expect((await b.api("DELETE", `follows/${follow!.id}`, { token: bob.token })).status).toBe(200);
    await b.flushOutbox();
    await waitFor(async () => (await followersOfWard()).length === 0, { what: "A to drop B's follow of the policy" });
  });

  it("mirrors every policy a followed community has published", async () => {
    const followed = await c.api<FollowView>("POST", "follows", { token: carol.token, body: { target: `@nurses@${a.host}`, as: "clinic" } });
    expect(followed.status, JSON.stringify(followed.body)).toBe(202);
    for (const [slug, count] of [["ward", 2], ["triage", 1], ["handover", 21]] as const) {
      await waitFor(async () => (await held(c, policyIris[slug]!))?.versions.length === count, { what: `C to mirror ${slug}`, timeoutMs: 30_000 });
    }
  });
});

describe("resolve on demand", () => {
  it("annotates a clause of another instance by its IRI without following first", async () => {
    const clause = `${policyIris.triage}/versions/1/clauses/tone`;
    const annotated = await b.api<{ iri: string; clause: string }>("POST", "annotations", {
      token: bob.token,
      body: { target: clause, motivation: "question", text: "Pain first, even before breathing?" },
    });
    expect(annotated.status, JSON.stringify(annotated.body)).toBe(201);
    expect(annotated.body.clause).toBe("tone");
    // B now holds the version it annotated (verified), and A received the annotation.
    expect((await held(b, policyIris.triage!))?.versions.map((v) => v.number)).toEqual([1]);
    await waitFor(
      async () => (await a.api<{ iri: string }[]>("GET", `annotations?target=${encodeURIComponent(clause)}`)).body.some((x) => x.iri === annotated.body.iri),
      { what: "A to receive the annotation" },
    );
  });

  it("refuses a clause IRI whose version does not exist, and holds nothing new", async () => {
    const missing = `${policyIris.triage}/versions/9/clauses/tone`;
    const refused = await b.api<{ detail: string }>("POST", "annotations", { token: bob.token, body: { target: missing, motivation: "comment", text: "?" } });
    expect(refused.status).toBe(502);
    expect(refused.body.detail).toContain("Cannot fetch the version");
    expect((await held(b, policyIris.triage!))?.versions.map((v) => v.number)).toEqual([1]);
  });
});
