/**
 * Fedalign against a strict independent server (test/peers/strict-peer.ts,
 * no Fedify): it verifies every draft-cavage signature after answering 202,
 * drops Updates of unknown objects and backfills outboxes, as widely
 * deployed microblog servers do. Every cross-server scenario of a follower
 * on such a server runs here, and at the end the peer has logged no
 * signature failure.
 */
import { configure, reset, type LogRecord } from "@logtape/logtape";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { fetchAp, waitFor, type FollowView } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { StrictPeer } from "./peers/strict-peer.ts";

const CONTENT = {
  title: "Ward Policy",
  summary: "How assistants behave on the ward.",
  licence: "CC-BY-4.0",
  clauses: [
    { id: "escalate", authority: "root", text: "Tell the user to call emergency services when they describe chest pain." },
    { id: "tone", authority: "guideline", text: "Be calm." },
  ],
};

interface AnnotationView {
  iri: string;
  author: string;
  clause: string | null;
  text: string;
}

// An in-process instance (real HTTP and signatures): the peer's view is what is tested, not the process.
let a: LocalInstance;
/** What the instance logged (this process's Fedalign loggers, captured while this file runs). */
const logged: string[] = [];
let peer: StrictPeer;
let alice: { token: string; actor: string };
let bob: { token: string; actor: string };
let policyId: number;
let community: string;
const versions: string[] = [];

async function publish(message: string, tone: string): Promise<string> {
  const draft = { ...CONTENT, clauses: CONTENT.clauses.map((c) => (c.id === "tone" ? { ...c, text: tone } : c)) };
  const saved = await a.api("PUT", `policies/${policyId}/draft`, { token: alice.token, body: draft });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  const published = await a.api<{ iri: string }>("POST", `policies/${policyId}/publish`, { token: alice.token, body: { message } });
  expect(published.status, JSON.stringify(published.body)).toBe(201);
  versions.push(published.body.iri);
  return published.body.iri;
}

const annotationsAt = async (target: string) => (await a.api<AnnotationView[]>("GET", `annotations?target=${encodeURIComponent(target)}`)).body;
const followersOfCommunity = async () => (await fetchAp<{ totalItems: number }>(`${community}/followers`)).totalItems;

beforeAll(async () => {
  await configure({
    reset: true,
    sinks: { capture: (record: LogRecord) => logged.push(record.message.map(String).join("")) },
    loggers: [
      { category: ["fedalign"], lowestLevel: "info", sinks: ["capture"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
    ],
  });
  [a, peer] = await Promise.all([startLocalInstance(), new StrictPeer("mia").start()]);
  [alice, bob] = await Promise.all([a.createUser("alice"), a.createUser("bob")]);
  await createCommunity(a.instance.db, { handle: "nurses", name: "Night Nurses", steward: await getUserByUsername(a.instance.db, "alice") });
  community = a.actorUri("nurses");
  policyId = (await a.api<{ id: number }>("POST", "policies", { token: alice.token, body: { community: "nurses", slug: "ward", content: CONTENT } })).body.id;
  // Version 1 exists before the peer follows: it must come from the outbox.
  await publish("First version.", "Be calm.");
});

afterAll(async () => {
  await Promise.all([a?.destroy(), peer?.stop()]);
  await reset();
});

describe("a strict independent server", () => {
  it("follows a community and a person (accepted, signatures verified) and backfills the community's outbox", async () => {
    await peer.follow(community);
    await peer.follow(alice.actor);
    await waitFor(() => peer.following.get(community)?.state === "accepted" && peer.following.get(alice.actor)?.state === "accepted", {
      what: "both follows to be accepted",
    });
    await peer.settled();
    expect(peer.verified("Accept")).toHaveLength(2);
    const backfilled = peer.timeline.filter((entry) => entry.via === "backfill");
    expect(backfilled.map((entry) => entry.object.id)).toEqual([versions[0]]);
  });

  it("receives v2 and v3 as new timeline posts (Create, not an Update of something unknown), each a readable summary", async () => {
    await publish("Kinder tone.", "Be calm and kind.");
    await publish("Shorter.", "Be calm, kind and brief.");
    await waitFor(() => versions.every((iri) => peer.objects.has(iri)), { what: "v2 and v3 to reach the peer" });
    await peer.settled();
    const pushed = peer.timeline.filter((entry) => entry.via === "inbox");
    expect(pushed.map((entry) => entry.object.id)).toEqual(versions.slice(1));
    expect(peer.log.filter((entry) => entry.kind === "dropped" && entry.type === "Update")).toEqual([]);
    const v3 = pushed.at(-1)!.object;
    expect(v3.type).toBe("Article");
    expect(v3.content).toContain("Changes: Shorter.");
    expect(v3.content).toContain(`href="${versions[2]}"`);
    expect(v3.content).toContain("2 clauses");
    // A summary, not the policy: the clause text stays at the IRI.
    expect(v3.content).not.toContain("emergency services");
  });

  it("replies to a version and to a clause (annotations), edits and deletes the reply", async () => {
    const version = versions[2]!;
    const clause = `${version}/clauses/tone`;
    const onVersion = await peer.reply(version, community, "Does this apply to night shifts?");
    const onClause = await peer.reply(clause, community, "Kind, yes; brief, not always.");
    const held = await waitFor(
      async () => {
        const all = await annotationsAt(version);
        return all.length === 2 ? all : undefined;
      },
      { what: "both replies to become annotations" },
    );
    expect(held.find((x) => x.iri === onVersion.id)).toMatchObject({ author: peer.actor, clause: null, text: "Does this apply to night shifts?" });
    expect(held.find((x) => x.iri === onClause.id)).toMatchObject({ author: peer.actor, clause: "tone", text: "Kind, yes; brief, not always." });

    // The edit arrives within A's five-minute document cache: A must read it fresh.
    await peer.edit(onClause.id, "Kind, always.");
    await waitFor(async () => (await annotationsAt(clause)).find((x) => x.iri === onClause.id)?.text === "Kind, always.", { what: "A to take the edit" });

    await peer.delete(onClause.id);
    await waitFor(async () => !(await annotationsAt(version)).some((x) => x.iri === onClause.id), { what: "A to drop the deleted reply" });
    expect((await annotationsAt(version)).map((x) => x.iri)).toEqual([onVersion.id]);
  });

  it("a reply whose source is gone when A re-checks it is removed", async () => {
    const version = versions[2]!;
    const reply = await peer.reply(version, community, "Short-lived thought.");
    await waitFor(async () => (await annotationsAt(version)).some((x) => x.iri === reply.id), { what: "the reply to become an annotation" });
    peer.vanish(reply.id);
    await peer.redeliverUpdate(reply.id);
    await waitFor(async () => !(await annotationsAt(version)).some((x) => x.iri === reply.id), { what: "A to drop the gone reply" });
    const line = logged.find((l) => l.includes("Removed annotation") && l.includes(reply.id));
    expect(line).toContain("its source is gone");
  });

  it("votes in a proposal: refused with a Reject and its reason when not a partner, counted once it is", async () => {
    const proposal = await a.api<{ id: number; iri: string }>("POST", `policies/${policyId}/proposals`, {
      token: alice.token,
      body: {
        title: "Warmer",
        changes: {
          base: { contentHash: (await a.api<{ versions: { contentHash: string }[] }>("GET", `policies/${policyId}`)).body.versions.at(-1)!.contentHash },
          operations: [
            {
              op: "edit",
              id: "tone",
              before: { id: "tone", title: "", section: null, authority: "guideline", text: "Be calm, kind and brief.", rationale: "", context: {}, examples: [], tags: [] },
              after: { id: "tone", title: "", section: null, authority: "guideline", text: "Be warm.", rationale: "", context: {}, examples: [], tags: [] },
            },
          ],
        },
      },
    });
    expect(proposal.status, JSON.stringify(proposal.body)).toBe(201);
    // The poll reaches the peer as a post it can answer.
    const question = await waitFor(() => peer.objects.get(proposal.body.iri), { what: "the poll to reach the peer" });
    expect(question.type).toBe("Question");
    const tally = async () =>
      (await a.api<{ id: number; tally: { voters: number; counts: Record<string, number> } }[]>("GET", `policies/${policyId}/proposals`)).body.find(
        (p) => p.id === proposal.body.id,
      )!.tally;

    const refusedVote = await peer.vote(question, "yes");
    const rejection = await waitFor(() => peer.rejections.find((r) => r.object === refusedVote.id), { what: "a Reject of the vote" });
    expect(rejection.actor).toBe(community);
    expect(rejection.reason).toMatch(/not a partner instance/);
    expect((await tally()).voters).toBe(0);

    const partners = await a.api("PUT", "communities/nurses/decision-rules", { token: alice.token, body: { partners: [peer.server.host] } });
    expect(partners.status).toBe(200);
    await peer.vote(question, "no");
    await waitFor(async () => (await tally()).counts.no === 1, { what: "the partner's vote to count" });
  });

  it("is followed by a member of the instance, who then unfollows", async () => {
    const followed = await a.api<FollowView>("POST", "follows", { token: bob.token, body: { target: peer.acct } });
    expect(followed.status, JSON.stringify(followed.body)).toBe(202);
    await waitFor(async () => (await a.api<FollowView[]>("GET", "follows", { token: bob.token })).body[0]?.state === "accepted", {
      what: "the peer to accept bob's follow",
    });
    expect(peer.followers.has(bob.actor)).toBe(true);
    const unfollowed = await a.api("DELETE", `follows/${followed.body.id}`, { token: bob.token });
    expect(unfollowed.status).toBe(200);
    await waitFor(() => !peer.followers.has(bob.actor), { what: "the peer to receive the Undo" });
  });

  it("unfollows the community", async () => {
    expect(await followersOfCommunity()).toBe(1);
    await peer.unfollow(community);
    await waitFor(async () => (await followersOfCommunity()) === 0, { what: "A to drop the follower" });
  });

  it("received every activity with a valid signature", async () => {
    await peer.settled();
    expect(peer.signatureFailures()).toEqual([]);
    const types = new Set(peer.verified().map((entry) => entry.type));
    for (const type of ["Accept", "Create", "Follow", "Undo", "Reject"]) expect(types).toContain(type);
    // What we sent was taken too.
    expect(peer.log.filter((entry) => entry.kind === "sent" && entry.status !== 202)).toEqual([]);
  });
});

describe("a forged delivery", () => {
  it("a badly signed delivery is dropped after the 202 and logged", async () => {
    const before = peer.signatureFailures().length;
    const response = await fetch(`${peer.actor}/inbox`, {
      method: "POST",
      headers: { "content-type": "application/activity+json", signature: 'keyId="x",signature="AAAA"' },
      body: JSON.stringify({ id: `${community}#forged`, type: "Create", actor: community, object: { id: `${community}#x`, type: "Note", attributedTo: community } }),
    });
    expect(response.status).toBe(202);
    await peer.settled();
    expect(peer.signatureFailures().length).toBe(before + 1);
    expect(peer.objects.has(`${community}#x`)).toBe(false);
  });
});

