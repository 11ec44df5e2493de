/**
 * Issue 19, item 3: one instance run as two web processes and two worker
 * processes on one database (`fedalign serve --role web|worker`), behind a
 * round-robin reverse proxy that owns the public origin, as a large
 * installation runs it. Followers are strict independent peers (no Fedify)
 * that verify every signature.
 *
 * - Follows arriving at either web process are accepted by a worker, and a
 *   published version reaches every follower's server exactly once.
 * - A worker killed with SIGKILL in the middle of a fan-out loses nothing:
 *   its claimed deliveries go to the other worker when their lease runs out
 *   (FEDALIGN_QUEUE_LEASE_SECONDS, 3 s here instead of 60).
 * - Sign-in failures are counted together by both web processes.
 */
import { mkdtempSync } from "node:fs";
import { createServer, request as httpRequest, type Server } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { closeDatabase, databasePath, openDatabase } from "../db/client.ts";
import { apiCall, cleanupDir, createTestUser, freePort, rawSql, runCli, startInstance, waitFor, type TestInstance } from "./harness.ts";
import { PeerServer } from "./peers/peer-server.ts";
import { StrictPeer } from "./peers/strict-peer.ts";

const CONTENT = {
  title: "Ward Policy",
  summary: "How assistants behave on the ward.",
  licence: "CC-BY-4.0",
  clauses: [{ id: "tone", authority: "guideline", text: "Be calm." }],
};

interface ServeProcess {
  role: "web" | "worker";
  instance: TestInstance;
}

const dataDir = mkdtempSync(join(tmpdir(), "fedalign-roles-"));
const processes: ServeProcess[] = [];
let proxy: Server;
let origin: string;
let alice: { token: string };
/** Followers: ten on servers of their own, three sharing one server (one shared inbox). */
const shared = new PeerServer();
const peers = [
  ...Array.from({ length: 10 }, (_, i) => new StrictPeer(`solo${i}`)),
  ...["ana", "ben", "cai"].map((name) => new StrictPeer(name, shared)),
];
const servers = [...new Set(peers.map((peer) => peer.server))];
let policyId: number;

/** `fedalign serve --role <role>` on the shared data directory and public origin. */
async function startServe(role: "web" | "worker"): Promise<ServeProcess> {
  const started: ServeProcess = {
    role,
    instance: await startInstance({ dataDir, origin, role, env: { FEDALIGN_QUEUE_LEASE_SECONDS: "3" }, startTimeoutMs: 120_000 }),
  };
  processes.push(started);
  return started;
}

/** The public origin: passes each request, Host header and all, to the next web process in turn. */
function startProxy(port: number): Promise<Server> {
  let next = 0;
  const server = createServer((req, res) => {
    // Only workers are killed here, so every web process is up.
    const webs = processes.filter((p) => p.role === "web");
    if (webs.length === 0) {
      res.writeHead(502).end();
      return;
    }
    const target = webs[next++ % webs.length]!;
    const forward = httpRequest(
      { host: "127.0.0.1", port: target.instance.port, method: req.method, path: req.url, headers: req.headers },
      (upstream) => {
        res.writeHead(upstream.statusCode ?? 502, upstream.headers);
        upstream.pipe(res);
      },
    );
    forward.on("error", () => res.writeHead(502).end());
    req.pipe(forward);
  });
  return new Promise((resolve) => server.listen(port, "127.0.0.1", () => resolve(server)));
}

async function publish(tone: string): Promise<string> {
  const saved = await apiCall(origin, "PUT", `policies/${policyId}/draft`, {
    token: alice.token,
    body: { ...CONTENT, clauses: [{ ...CONTENT.clauses[0], text: tone }] },
  });
  expect(saved.status, JSON.stringify(saved.body)).toBe(200);
  const published = await apiCall<{ iri: string }>(origin, "POST", `policies/${policyId}/publish`, { token: alice.token, body: { message: tone } });
  expect(published.status, JSON.stringify(published.body)).toBe(201);
  return published.body.iri;
}

/** POSTs of the Create of `version` a server received. */
function postsOf(server: PeerServer, version: string): number {
  return server.received((request) => request.method === "POST" && (request.json as { id?: string } | undefined)?.id === `${version}#create`).length;
}

const verifiedBy = (peer: StrictPeer, version: string) => peer.verified("Create").some((entry) => entry.id === `${version}#create`);

beforeAll(async () => {
  const proxyPort = await freePort();
  origin = `http://127.0.0.1:${proxyPort}`;
  proxy = await startProxy(proxyPort);
  await Promise.all(peers.map((peer) => peer.start()));
  // The first process creates and migrates the database; the others open it as it is.
  await startServe("web");
  await Promise.all([startServe("web"), startServe("worker"), startServe("worker")]);

  const db = openDatabase(databasePath(dataDir), { mustExist: true });
  try {
    alice = await createTestUser(db, origin, "alice");
  } finally {
    closeDatabase(db);
  }
  const created = await runCli(["admin", "community", "create", "nurses", "--name", "Night Nurses", "--steward", "alice", "--data", dataDir]);
  expect(created.code, created.stderr).toBe(0);
  const policy = await apiCall<{ id: number }>(origin, "POST", "policies", { token: alice.token, body: { community: "nurses", slug: "ward", content: CONTENT } });
  expect(policy.status, JSON.stringify(policy.body)).toBe(201);
  policyId = policy.body.id;
  const community = `${origin}/actors/nurses`;
  for (const peer of peers) await peer.follow(community);
  await waitFor(() => peers.every((peer) => peer.following.get(community)?.state === "accepted"), {
    what: "every follow to be accepted by a worker",
    timeoutMs: 60_000,
  });
}, 400_000);

afterAll(async () => {
  if (process.env.FEDALIGN_TEST_DUMP) for (const p of processes) console.log(`--- ${p.role}\n${p.instance.log()}`);
  await Promise.all(processes.map((p) => p.instance.stop()));
  await new Promise((resolve) => proxy?.close(resolve));
  await Promise.all(servers.map((server) => server.stop()));
  cleanupDir(dataDir);
});

describe("two web processes and two workers on one database", () => {
  it("both web processes answered, and the workers (not the web processes) accepted the follows", () => {
    const webs = processes.filter((p) => p.role === "web");
    const workers = processes.filter((p) => p.role === "worker");
    expect(webs).toHaveLength(2);
    expect(workers).toHaveLength(2);
    for (const web of webs) expect(web.instance.log()).toContain("web only: worker processes run the queues");
    for (const worker of workers) expect(worker.instance.log()).toContain("worker is running the queues");
    expect(proxy.listening).toBe(true);
  });

  it("delivers a published version to every follower's server exactly once", async () => {
    const version = await publish("Be calm and kind.");
    // One delivery per server: the three followers on the shared server get it once, at its shared inbox.
    await waitFor(() => servers.every((server) => peers.some((peer) => peer.server === server && verifiedBy(peer, version))), {
      what: "the version verified at every follower's server",
      timeoutMs: 60_000,
    });
    await Promise.all(peers.map((peer) => peer.settled()));
    for (const server of servers) expect(postsOf(server, version), server.host).toBe(1);
    for (const peer of peers) expect(peer.signatureFailures()).toEqual([]);
  });

  it("loses nothing when a worker is killed with SIGKILL in the middle of a fan-out", async () => {
    // Every follower's server answers deliveries slowly, so the fan-out is still in flight when the worker dies.
    for (const server of servers) server.use((request) => (request.method === "POST" ? { status: 202, delayMs: 1_500 } : undefined));
    const version = await publish("Be calm, kind and brief.");
    await waitFor(() => servers.some((server) => postsOf(server, version) > 0), { what: "the first delivery to start", timeoutMs: 30_000 });
    const victim = processes.find((p) => p.role === "worker")!;
    await victim.instance.stop("SIGKILL");

    await waitFor(() => servers.every((server) => postsOf(server, version) > 0), {
      what: "the version at every follower's server after the kill",
      timeoutMs: 60_000,
    });
    // What the dead worker had claimed is sent again once its lease runs out; a delivery it had already sent
    // may so arrive twice (at least once, as everywhere in the fediverse: receivers drop a repeated activity id).
    const posts = servers.map((server) => postsOf(server, version));
    expect(posts.every((n) => n >= 1 && n <= 3), JSON.stringify(posts)).toBe(true);
    const db = openDatabase(databasePath(dataDir), { mustExist: true });
    try {
      await waitFor(async () => (await rawSql(db, (raw) => raw.prepare("SELECT COUNT(*) AS n FROM fedify_queue").get() as { n: number })).n === 0, {
        what: "the queues to drain",
        timeoutMs: 30_000,
      });
    } finally {
      closeDatabase(db);
    }
  });

  it("counts failed sign-ins over both web processes", async () => {
    const attempt = () =>
      fetch(`${origin}/api/v1/tokens`, {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ username: "alice", password: "not the password" }),
      });
    // Five failures per account, spread over both processes by the proxy; the sixth is refused before the password is checked.
    for (let i = 0; i < 5; i++) expect((await attempt()).status).toBe(401);
    const refused = await attempt();
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
  });
});
