/**
 * Issue 12, item 6 (inbox): one slow peer cannot stall the inbox. A hostile
 * peer sends a signed Create whose object, on its own server, never comes
 * back; while the instance waits on it, another server's Follow is handled
 * and answered. Activities of one server keep their order (Follow, then
 * Undo), and nothing is stored for the slow Create.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { rawSql, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { peerActor, type PeerActor } from "./peers/peer-actor.ts";
import { PeerServer } from "./peers/peer-server.ts";

let instance: LocalInstance;
let slowPeer: PeerServer;
let goodPeer: PeerServer;
let slow: PeerActor;
let good: PeerActor;
let release!: () => void;
const held = new Promise<void>((resolve) => (release = resolve));

async function followersOf(identifier: string): Promise<string[]> {
  const rows = await rawSql(instance.instance.db, (raw) =>
    raw.prepare("SELECT follower_iri FROM follows WHERE followee_iri = ? AND state = 'accepted' ORDER BY follower_iri").all(instance.actorUri(identifier)),
  );
  return (rows as { follower_iri: string }[]).map((row) => row.follower_iri);
}

beforeAll(async () => {
  [instance, slowPeer, goodPeer] = await Promise.all([startLocalInstance(), new PeerServer().start(), new PeerServer().start()]);
  await instance.createUser("alice");
  const { db } = instance.instance;
  await createCommunity(db, { handle: "nurses", name: "Nurses", steward: (await getUserByUsername(db, "alice"))! });
  slow = peerActor(slowPeer, "slow");
  good = peerActor(goodPeer, "good");
  // The slow peer answers everything but this object, which it holds until the test ends.
  slowPeer.use(async (request) => {
    if (request.path !== "/objects/never") return undefined;
    await held;
    return { status: 404, body: "gone" };
  });
});

afterAll(async () => {
  release?.();
  await Promise.all([instance?.destroy(), slowPeer?.stop(), goodPeer?.stop()]);
});

describe("a slow peer", () => {
  it("holds up only its own activities: another server's Follow is accepted meanwhile", async () => {
    const nurses = instance.actorUri("nurses");
    const create = await slow.send(`${nurses}/inbox`, {
      id: slowPeer.url("/activities/create-1"),
      type: "Create",
      object: slowPeer.url("/objects/never"),
      to: ["https://www.w3.org/ns/activitystreams#Public"],
    });
    expect(create.status).toBeLessThan(300);
    await waitFor(() => slowPeer.received((r) => r.path === "/objects/never").length > 0, { what: "the instance to fetch the slow object" });

    const follow = await good.send(`${nurses}/inbox`, { id: goodPeer.url("/activities/follow-1"), type: "Follow", object: nurses });
    expect(follow.status).toBeLessThan(300);
    const accepted = await waitFor(
      async () => (await good.deliveries()).find((d) => (d.request.json as { type?: string }).type === "Accept"),
      { what: "the Accept for the good peer's Follow" },
    );
    expect(accepted.verified.ok).toBe(true);
    expect(await followersOf("nurses")).toEqual([good.id]);
    // The slow fetch is still waiting: the Follow did not queue behind it.
    expect(slowPeer.received((r) => r.path === "/objects/never").length).toBeGreaterThan(0);
  });

  it("keeps one server's activities in order: a Follow and its Undo sent back to back leave no follower", async () => {
    const nurses = instance.actorUri("nurses");
    const followId = goodPeer.url("/activities/follow-2");
    const undo = { id: goodPeer.url("/activities/undo-2"), type: "Undo", object: { id: followId, type: "Follow", actor: good.id, object: nurses } };
    // The first Follow was accepted above; undo it, then follow and undo again without waiting.
    await good.send(`${nurses}/inbox`, { id: goodPeer.url("/activities/undo-1"), type: "Undo", object: { id: goodPeer.url("/activities/follow-1"), type: "Follow", actor: good.id, object: nurses } });
    await good.send(`${nurses}/inbox`, { id: followId, type: "Follow", object: nurses });
    await good.send(`${nurses}/inbox`, undo);
    await waitFor(
      async () => (await good.deliveries()).filter((d) => (d.request.json as { type?: string }).type === "Accept").length >= 2,
      { what: "the second Accept" },
    );
    await waitFor(async () => (await followersOf("nurses")).length === 0, { what: "no follower left" });
  });

  it("stored nothing for the Create whose object never came", async () => {
    for (const table of ["policies", "policy_versions", "remote_proposals", "annotations", "policy_forks"]) {
      const text = JSON.stringify(await rawSql(instance.instance.db, (raw) => raw.prepare(`SELECT * FROM "${table}"`).all()));
      expect([table, text.includes(slowPeer.origin)]).toEqual([table, false]);
    }
  });
});
