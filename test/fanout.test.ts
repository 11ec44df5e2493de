/**
 * Fan-out of a published version to followers on several servers, as the
 * receiving servers see it (strict independent peers, no Fedify, verifying
 * every signature): followers sharing a server's shared inbox get one
 * delivery; a server that is down opens its circuit and the others still get
 * theirs at once; after the cool-down its held deliveries go out and arrive
 * once it is back; and every server ends up with each version exactly once.
 *
 * The circuit breaker and the queue read the system time, so the cool-down
 * (30 minutes, the default) is skipped by moving Date forward with
 * vi.setSystemTime, not slept through.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { SqliteKvStore } from "../federation/kv-store.ts";
import { rawSql, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { PeerServer } from "./peers/peer-server.ts";
import { StrictPeer } from "./peers/strict-peer.ts";

const CONTENT = {
  title: "Ward Policy",
  summary: "How assistants behave on the ward.",
  licence: "CC-BY-4.0",
  clauses: [{ id: "tone", authority: "guideline", text: "Be calm." }],
};
const COOL_DOWN_MS = 30 * 60_000;

let a: LocalInstance;
let alice: { token: string };
let policyId: number;
let community: string;
/** Three users of one server with one shared inbox. */
const sharedServer = new PeerServer();
const sharers = ["ana", "ben", "cai"].map((name) => new StrictPeer(name, sharedServer));
/** One user on a server of its own that stays up. */
const live = new StrictPeer("lia");
/** One user on a server that goes down after following. */
const dead = new StrictPeer("dan");
let deadPort: number;
const versions: string[] = [];

async function publish(tone: string): Promise<string> {
  const saved = await a.api("PUT", `policies/${policyId}/draft`, { token: alice.token, body: { ...CONTENT, clauses: [{ ...CONTENT.clauses[0], text: tone }] } });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  const published = await a.api<{ iri: string }>("POST", `policies/${policyId}/publish`, { token: alice.token, body: { message: tone } });
  expect(published.status, JSON.stringify(published.body)).toBe(201);
  versions.push(published.body.iri);
  return published.body.iri;
}

/** POSTs of the Create of `version` that a server received, by inbox path. */
function postsOf(server: PeerServer, version: string): string[] {
  return server
    .received((request) => request.method === "POST" && (request.json as { id?: string } | undefined)?.id === `${version}#create`)
    .map((request) => request.path);
}

/** Versions whose Create a peer verified, in arrival order. */
const verifiedVersions = (peer: StrictPeer) => peer.verified("Create").map((entry) => entry.id.replace(/#create$/, ""));

async function circuitOf(host: string): Promise<string | undefined> {
  const state = await new SqliteKvStore(a.instance.db).get<{ state: string }>(["_fedify", "circuit", host]);
  return state?.state;
}

beforeAll(async () => {
  // Only Date is faked (and keeps running): timers, sockets and the peers work as usual.
  vi.useFakeTimers({ toFake: ["Date"], shouldAdvanceTime: true });
  // Two refused deliveries open a host's circuit (5 by default), so the test needs fewer versions.
  [a] = await Promise.all([
    startLocalInstance({ env: { FEDALIGN_CIRCUIT_FAILURES: "2" } }),
    ...sharers.map((peer) => peer.start()),
    live.start(),
    dead.start(),
  ]);
  deadPort = Number(new URL(dead.server.origin).port);
  alice = await a.createUser("alice");
  await createCommunity(a.instance.db, { handle: "nurses", name: "Night Nurses", steward: await getUserByUsername(a.instance.db, "alice") });
  community = a.actorUri("nurses");
  policyId = (await a.api<{ id: number }>("POST", "policies", { token: alice.token, body: { community: "nurses", slug: "ward", content: CONTENT } })).body.id;
  for (const peer of [...sharers, live, dead]) await peer.follow(community);
  await waitFor(() => [...sharers, live, dead].every((peer) => peer.following.get(community)?.state === "accepted"), { what: "five follows to be accepted" });
});

afterAll(async () => {
  vi.useRealTimers();
  await Promise.all([a?.destroy(), sharedServer.stop(), live.stop(), dead.stop()]);
});

describe("fan-out of a version to followers on several servers", () => {
  it("delivers once to a shared inbox for three followers there, and once to each other server", async () => {
    const v1 = await publish("Be calm.");
    await waitFor(() => postsOf(sharedServer, v1).length > 0 && postsOf(live.server, v1).length > 0 && postsOf(dead.server, v1).length > 0, {
      what: "v1 at every server",
    });
    await Promise.all([...sharers, live, dead].map((peer) => peer.settled()));
    expect(postsOf(sharedServer, v1)).toEqual(["/inbox"]);
    expect(postsOf(live.server, v1)).toEqual(["/inbox"]);
    expect(verifiedVersions(live)).toEqual([v1]);
  });

  it("opens the circuit of a server that is down, and the others get new versions at once", async () => {
    await dead.server.stop();
    const deadHost = dead.server.host;
    const v2 = await publish("Be calm and kind.");
    await waitFor(() => postsOf(live.server, v2).length > 0 && postsOf(sharedServer, v2).length > 0, { what: "v2 at the live servers" });
    // The refused delivery of v2 is retried after about 5 s (the retry policy); its second refusal opens the circuit.
    vi.setSystemTime(Date.now() + 10_000);
    await waitFor(async () => (await circuitOf(deadHost)) === "open", { what: "the dead server's circuit to open" });

    // With the circuit open, a new version is held for the dead server (not tried, not dropped) and reaches the others promptly.
    const started = performance.now();
    const v3 = await publish("Be calm, kind and brief.");
    await waitFor(() => postsOf(live.server, v3).length > 0 && postsOf(sharedServer, v3).length > 0, { what: "v3 at the live servers", timeoutMs: 5_000 });
    expect(performance.now() - started).toBeLessThan(5_000);
    // v2 and v3 wait in the queue for the cool-down, marked as held by the circuit.
    const held = async () =>
      (
        (await rawSql(a.instance.db, (raw) =>
          raw.prepare("SELECT COUNT(*) AS n FROM fedify_queue WHERE queue = 'outbox' AND host = ? AND json_extract(message, '$.circuitHeld') = 1").get(deadHost),
        )) as { n: number }
      ).n;
    await waitFor(async () => await held() === 2, { what: "v2 and v3 to be held for the dead server", timeoutMs: 5_000 });
    expect(await circuitOf(deadHost)).toBe("open");
  });

  it("after the cool-down, delivers what was held once the server is back, and nothing twice anywhere", async () => {
    await dead.server.start(deadPort);
    vi.setSystemTime(Date.now() + COOL_DOWN_MS);
    // One probe closes the circuit; the other held delivery follows within the release interval.
    await waitFor(() => verifiedVersions(dead).length === 3, { what: "v2 and v3 at the server that came back", timeoutMs: 20_000 });
    // Closed (its state cleared) once the sender has recorded the success, which may come after the peer verified.
    await waitFor(async () => (await circuitOf(dead.server.host)) === undefined, { what: "the circuit to close" });
    await Promise.all([...sharers, live, dead].map((peer) => peer.settled()));

    for (const server of [sharedServer, live.server, dead.server]) {
      for (const version of versions) expect(postsOf(server, version), `${version} at ${server.host}`).toEqual(["/inbox"]);
    }
    expect(new Set(verifiedVersions(dead))).toEqual(new Set(versions));
    expect(verifiedVersions(live)).toEqual(versions);
    for (const peer of [...sharers, live, dead]) expect(peer.signatureFailures()).toEqual([]);
    const queued = async () =>
      ((await rawSql(a.instance.db, (raw) => raw.prepare("SELECT COUNT(*) AS n FROM fedify_queue WHERE queue = 'outbox'").get())) as { n: number }).n;
    await waitFor(async () => await queued() === 0, { what: "the outbox queue to be empty" });
  });
});
