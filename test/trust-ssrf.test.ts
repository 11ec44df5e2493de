/**
 * Issue 12, item 3 (delivery SSRF) and the address checks behind item 2.
 *
 * Tests run on loopback, which is exactly what a production instance must
 * refuse; so the refusals are proved two ways. The address checks are unit
 * tests with a stand-in resolver (a public-looking name that resolves to
 * 127.0.0.1, 10.0.0.8 or ::ffff:127.0.0.1), since DNS cannot be made to lie
 * here. And one real instance is started as in production, without
 * --allow-private-address: it must refuse to fetch the hostile peer's key
 * (so the peer's signed Follow is a 401 that changes nothing) and must drop,
 * not make, a queued delivery to the peer's loopback inbox.
 */
import { configure, reset, type LogRecord } from "@logtape/logtape";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { assertPublicHost, isPrivateHost, isSpecialAddress, PrivateAddressError, type Resolver } from "../federation/addresses.ts";
import { refusedDelivery } from "../federation/delivery-guard.ts";
import { fetchDocument, RefusedDocumentError } from "../federation/fetch.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { canonicalHost } from "../src/hosts.ts";
import { logged, snapshot } from "./db-snapshot.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";
import { HostilePeer } from "./peers/hostile-peer.ts";

const resolver = (table: Record<string, string[]>): Resolver => async (name) =>
  (table[name] ?? []).map((address) => ({ address, family: address.includes(":") ? 6 : 4 }));

describe("address checks after DNS (units)", () => {
  it("classifies private, loopback, link-local and other special ranges, and public ones", () => {
    for (const special of ["127.0.0.1", "10.1.2.3", "172.16.0.1", "192.168.1.1", "169.254.169.254", "100.64.0.1", "0.0.0.0", "224.0.0.1", "::1", "fe80::1", "fd00::1", "::ffff:127.0.0.1", "::ffff:7f00:1", "[::1]"]) {
      expect(isSpecialAddress(special), special).toBe(true);
    }
    for (const open of ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "::ffff:8.8.8.8"]) expect(isSpecialAddress(open), open).toBe(false);
    expect(isPrivateHost("localhost:3000")).toBe(true);
    expect(isPrivateHost("printer.local")).toBe(true);
    expect(isPrivateHost("example.org")).toBe(false);
  });

  it("refuses a public-looking name that resolves to a private address", async () => {
    const dns = resolver({ "rebound.example": ["127.0.0.1"], "intranet.example": ["93.184.216.34", "10.0.0.8"], "mapped.example": ["::ffff:127.0.0.1"], "fine.example": ["93.184.216.34"] });
    for (const name of ["rebound.example", "intranet.example", "mapped.example"]) {
      await expect(assertPublicHost(name, dns), name).rejects.toBeInstanceOf(PrivateAddressError);
    }
    await expect(assertPublicHost("fine.example", dns)).resolves.toBeUndefined();
  });

  it("drops a queued delivery whose inbox resolves to a private address, and keeps a public one", async () => {
    const dns = resolver({ "evil.example": ["169.254.169.254"], "good.example": ["93.184.216.34"] });
    const reason = await refusedDelivery({ type: "outbox", inbox: "https://evil.example/inbox" }, dns);
    expect(reason).toMatch(/169\.254\.169\.254/);
    expect(await refusedDelivery({ type: "outbox", inbox: "https://good.example/inbox" }, dns)).toBeUndefined();
    expect(await refusedDelivery({ type: "inbox", activity: {} }, dns)).toBeUndefined();
  });

  it("canonicalises hosts for blocks and comparisons", () => {
    expect(canonicalHost("Example.ORG.")).toBe("example.org");
    expect(canonicalHost("example.org:443")).toBe("example.org");
    expect(canonicalHost("https://EXAMPLE.org:443/users/x")).toBe("example.org");
    expect(canonicalHost("example.org:8443")).toBe("example.org:8443");
    expect(canonicalHost("bücher.example")).toBe("xn--bcher-kva.example");
    expect(canonicalHost("not a host/")).toBeUndefined();
  });
});

describe("the guarded fetch over loopback (units)", () => {
  let peer: HostilePeer;
  beforeAll(async () => {
    peer = await HostilePeer.start();
  });
  afterAll(() => peer?.stop());

  it("gives up on a peer that does not answer in time", async () => {
    peer.serveSlow("/slow", { id: peer.url("/slow"), type: "Note" }, 3_000);
    const started = Date.now();
    await expect(fetchDocument(peer.url("/slow"), { kind: "activitystreams", allowPrivateAddress: true, timeoutMs: 300 })).rejects.toThrow(/no answer within 300 ms/);
    expect(Date.now() - started).toBeLessThan(2_500);
  });

  it("refuses ActivityStreams documents whose ids it cannot check (an array, a @graph)", async () => {
    peer.server.serveJson("/array", [{ "@id": "https://victim.example/users/v", "@type": "https://www.w3.org/ns/activitystreams#Person" }]);
    peer.server.serveJson("/graph", { "@context": "https://www.w3.org/ns/activitystreams", "@graph": [{ id: "https://victim.example/users/v", type: "Person" }] });
    for (const path of ["/array", "/graph"]) {
      await expect(fetchDocument(peer.url(path), { kind: "activitystreams", allowPrivateAddress: true })).rejects.toThrow(/not a single JSON object/);
    }
  });

  it("caps WebFinger answers at 100 KiB and refuses loopback unless allowed", async () => {
    peer.server.serve("/jrd", { headers: { "content-type": "application/jrd+json" }, body: JSON.stringify({ subject: "acct:x@y", pad: "x".repeat(101 * 1024) }) });
    await expect(fetchDocument(peer.url("/jrd"), { kind: "webfinger", allowPrivateAddress: true })).rejects.toThrow(/over the 102400-byte limit/);
    peer.server.serveJson("/note", { id: peer.url("/note"), type: "Note" });
    await expect(fetchDocument(peer.url("/note"), { kind: "activitystreams", allowPrivateAddress: false })).rejects.toBeInstanceOf(RefusedDocumentError);
    await expect(fetchDocument(peer.url("/note"), { kind: "activitystreams", allowPrivateAddress: true })).resolves.toMatchObject({ finalUrl: peer.url("/note") });
  });
});

describe("3. an instance that refuses private addresses, as in production", () => {
  // In process (real HTTP and signatures) but with the production address checks; its log is
  // this process's Fedalign loggers, captured while these tests run.
  let strict: LocalInstance & { log(): string };
  let hostile: HostilePeer;
  let alice: { token: string };
  const captured: string[] = [];

  beforeAll(async () => {
    await configure({
      reset: true,
      sinks: { capture: (record: LogRecord) => captured.push(record.message.map(String).join("")) },
      loggers: [
        { category: ["fedalign"], lowestLevel: "info", sinks: ["capture"] },
        { category: ["logtape", "meta"], lowestLevel: "warning", sinks: [] },
      ],
    });
    let local: LocalInstance;
    [local, hostile] = await Promise.all([startLocalInstance({ allowPrivateAddress: false }), HostilePeer.start()]);
    strict = Object.assign(local, { log: () => captured.join("\n") });
    alice = await strict.createUser("alice");
    await createCommunity(strict.instance.db, { handle: "nurses", name: "Nurses", steward: await getUserByUsername(strict.instance.db, "alice") });
  });
  afterAll(async () => {
    await Promise.all([strict?.destroy(), hostile?.stop()]);
    await reset();
  });

  it("does not fetch a key from a loopback peer, so its signed Follow is a 401 that changes nothing", async () => {
    const mallory = hostile.actor("mallory");
    const follow = { "@context": "https://www.w3.org/ns/activitystreams", id: `${mallory.id}#f1`, type: "Follow", actor: mallory.id, object: strict.actorUri("nurses") };
    const before = snapshot(strict);
    expect((await hostile.post(`${strict.actorUri("nurses")}/inbox`, follow, mallory)).status).toBe(401);
    expect(snapshot(strict)).toEqual(before);
    await logged(strict, /Refused remote document .*users\/mallory.*127\.0\.0\.1 is a loopback or private host|resolves to 127\.0\.0\.1/);
  });

  it("drops a delivery to a follower whose inbox is on a private address, and never POSTs it", async () => {
    // A follower row as an older version (or a DNS change since) could have left it.
    const victim = hostile.actor("follower");
    const client = strict.instance.db.$client;
    await client.exclusive(() => {
      client.raw.prepare("INSERT INTO federated_actors (iri, type, handle, name, inbox_url, shared_inbox_url, url, fetched_at) VALUES (?, 'Person', NULL, 'f', ?, NULL, NULL, ?)").run(victim.id, victim.inbox, Date.now());
      client.raw.prepare("INSERT INTO follows (follower_iri, followee_iri, activity_iri, state, created_at, updated_at) VALUES (?, ?, ?, 'accepted', ?, ?)").run(victim.id, strict.actorUri("nurses"), `${victim.id}#f`, Date.now(), Date.now());
    });
    const renamed = await strict.api("PATCH", "communities/nurses", { token: alice.token, body: { name: "Nurses of the North" } });
    expect(renamed.status).toBe(200);
    await logged(strict, /Refused delivery of .* to .*users\/follower\/inbox/);
    expect(hostile.received("/users/follower/inbox")).toHaveLength(0);
  });
});
