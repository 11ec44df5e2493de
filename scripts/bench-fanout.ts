/**
 * Fan-out: one published version delivered to many inboxes on many hosts,
 * all on loopback.
 *
 * - followers: `--inboxes` remote actors (rows inserted directly), each with
 *   its own inbox and no shared inbox, spread over `--hosts` hosts;
 * - hosts: that many HTTP listeners on 127.0.0.1 (one port each) in a child
 *   process, each verifying every delivery's draft-cavage signature with
 *   node:crypto (test/peers/http-signatures.ts, no Fedify) before answering
 *   202, and counting verified deliveries per inbox (duplicates too);
 * - this process: the instance (serving the community's key to the sinks),
 *   the publish use case, the outbox dispatcher and Fedify's fan-out queue;
 * - workers: 1 or 2 child processes on the same database file, each running
 *   only the outbox (delivery) queue, started once everything is queued.
 *
 * Per run it prints the time to enqueue (publish -> fan-out message queued ->
 * one delivery per inbox queued) and deliveries per second; scenarios:
 *   1 worker | 2 workers | 1 worker, one host slow (each answer delayed by
 *   `--slow-ms`) | the same without the per-host limit (the baseline the limit
 *   is for). With a slow host, the rate counts the other hosts' deliveries.
 * The summary gives medians over runs and ratios against the 1-worker run.
 *
 *   npm run bench:fanout -- [--inboxes 10000] [--hosts 100] [--runs 3] [--slow-ms 2000] [--per-host 4] [--timeout-s 300]
 */
import "../src/polyfills.ts";
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { ServerType } from "@hono/node-server";
import { eq } from "drizzle-orm";
import { countRows } from "../db/client.ts";
import { fedifyQueue, federatedActors, follows } from "../db/schema.ts";
import { DEFAULT_DELIVERY } from "../federation/delivery-options.ts";
import { createUser } from "../src/accounts/users.ts";
import { publishVersion } from "../src/app/policies.ts";
import { listen } from "../src/cli/serve.ts";
import { createCommunity } from "../src/communities.ts";
import { DEFAULT_SERVER_LIMITS } from "../src/http-edges.ts";
import { openInstance } from "../src/instance.ts";
import { configureLogging } from "../src/logging.ts";
import { policyContentSchema } from "../src/policies/content.ts";
import { createPolicy, getPolicyById, saveDraft } from "../src/policies/policies.ts";
import { freePort } from "../test/harness.ts";
import { verifyRequest } from "../test/peers/http-signatures.ts";

const { values: args } = parseArgs({
  options: {
    role: { type: "string", default: "main" },
    inboxes: { type: "string", default: "10000" },
    hosts: { type: "string", default: "100" },
    runs: { type: "string", default: "3" },
    "slow-ms": { type: "string", default: "2000" },
    "per-host": { type: "string", default: String(DEFAULT_DELIVERY.perHost) },
    "timeout-s": { type: "string", default: "300" },
    /** Run only the scenarios whose name contains this. */
    only: { type: "string" },
    /** Write a CPU profile of each worker to this directory. */
    "profile-dir": { type: "string" },
    // Worker role only.
    data: { type: "string" },
    origin: { type: "string" },
  },
});

const SCRIPT = fileURLToPath(import.meta.url);

// ------------------------------------------------------------------ messages

type ToSinks = { type: "slow"; port: number | null; ms: number } | { type: "count"; slowPort: number | null } | { type: "reset" };
type FromSinks = { type: "ready"; ports: number[] } | { type: "counted"; verified: number; verifiedElsewhere: number; duplicates: number; failures: number; firstFailure?: string };
type ToWorker = { type: "go" } | { type: "stop" };
type FromWorker = { type: "ready" } | { type: "stopped"; maxRssMiB: number; cpuSeconds: number };

function nextMessage<T extends { type: string }>(child: ChildProcess, type: T["type"]): Promise<T> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: T) => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => reject(new Error(`child exited (${code}) before sending ${type}`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

function spawnRole(role: string, extra: string[] = []): ChildProcess {
  const profile = role === "worker" && args["profile-dir"] ? ["--cpu-prof", `--cpu-prof-dir=${args["profile-dir"]}`] : [];
  return fork(SCRIPT, ["--role", role, ...extra], { execArgv: [...process.execArgv, ...profile], stdio: ["ignore", "inherit", "inherit", "ipc"] });
}

// --------------------------------------------------------------------- sinks

/**
 * The receiving hosts: one listener per host. Each verifies the signature
 * with the key of the signing actor (fetched once per host, as a server
 * caches it), then answers 202 (after `slow` ms on the slow host) or 401.
 */
async function runSinks(): Promise<void> {
  const hosts = Number(args.hosts);
  const received = new Map<string, number>(); // "activity inbox" -> deliveries
  let failures = 0;
  let firstFailure: string | undefined;
  let slow: { port: number | null; ms: number } = { port: null, ms: 0 };
  const servers: Server[] = [];

  const makeHandler = (port: number, keys: Map<string, Promise<string | undefined>>) => async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const result = await verifyRequest({
      method: req.method ?? "POST",
      path: req.url ?? "/",
      headers: req.headers,
      body,
      fetchPublicKeyPem: (keyId) => {
        let key = keys.get(keyId);
        if (!key) keys.set(keyId, (key = fetchKeyPem(keyId)));
        return key;
      },
    }).catch((error: Error) => ({ ok: false as const, reason: error.message }));
    if (!result.ok) {
      failures++;
      firstFailure ??= result.reason;
      res.writeHead(401).end();
      return;
    }
    const activity = (JSON.parse(body.toString("utf8")) as { id?: string }).id;
    const key = `${activity} ${port}${req.url}`;
    received.set(key, (received.get(key) ?? 0) + 1);
    if (slow.port === port) await new Promise((resolve) => setTimeout(resolve, slow.ms));
    res.writeHead(202).end();
  };

  const ports: number[] = [];
  for (let i = 0; i < hosts; i++) {
    const keys = new Map<string, Promise<string | undefined>>();
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    server.on("request", (req, res) => void makeHandler(port, keys)(req, res));
    servers.push(server);
    ports.push(port);
  }

  process.on("message", (message: ToSinks) => {
    if (message.type === "slow") slow = { port: message.port, ms: message.ms };
    else if (message.type === "reset") {
      received.clear();
      failures = 0;
      firstFailure = undefined;
    } else if (message.type === "count") {
      let verified = 0;
      let verifiedElsewhere = 0;
      let duplicates = 0;
      for (const [key, n] of received) {
        verified++;
        duplicates += n - 1;
        if (message.slowPort === null || !key.includes(` ${message.slowPort}/`)) verifiedElsewhere++;
      }
      send({ type: "counted", verified, verifiedElsewhere, duplicates, failures, firstFailure });
    }
  });
  process.on("disconnect", () => {
    for (const server of servers) server.closeAllConnections();
    process.exit(0);
  });
  send({ type: "ready", ports });
}

/** The PEM of a key, from the actor document its keyId points into (as Mastodon resolves draft-cavage keys). */
async function fetchKeyPem(keyId: string): Promise<string | undefined> {
  const response = await fetch(keyId, { headers: { accept: "application/activity+json" } });
  if (!response.ok) return undefined;
  const actor = (await response.json()) as { publicKey?: { id: string; publicKeyPem: string } | { id: string; publicKeyPem: string }[] };
  const keys = Array.isArray(actor.publicKey) ? actor.publicKey : actor.publicKey ? [actor.publicKey] : [];
  return keys.find((key) => key.id === keyId)?.publicKeyPem;
}

function send(message: FromSinks | FromWorker): void {
  process.send!(message);
}

// -------------------------------------------------------------------- worker

/** A delivery worker: the instance's outbox queue only, on the shared database file. */
async function runWorker(): Promise<void> {
  configureLogging("error");
  const perHost = Number(args["per-host"]);
  const instance = await openInstance({
    dataDir: args.data!,
    origin: args.origin!,
    allowPrivateAddress: true,
    delivery: { ...DEFAULT_DELIVERY, perHost },
  });
  const stop = new AbortController();
  let running: Promise<void> | undefined;
  let cpuAtGo: NodeJS.CpuUsage | undefined;
  process.on("message", async (message: ToWorker) => {
    if (message.type === "go") {
      cpuAtGo = process.cpuUsage();
      running ??= instance.federation.startQueue(instance.data, { signal: stop.signal, queue: "outbox" });
    }
    if (message.type === "stop") {
      // CPU time spent delivering: the machine may be shared, so wall-clock rates alone say little.
      const cpu = process.cpuUsage(cpuAtGo);
      stop.abort();
      await instance.close();
      void running;
      send({ type: "stopped", maxRssMiB: Math.round(process.resourceUsage().maxRSS / 1024), cpuSeconds: (cpu.user + cpu.system) / 1e6 });
      process.disconnect();
      process.exit(0);
    }
  });
  send({ type: "ready" });
}

// ---------------------------------------------------------------------- main

interface Scenario {
  name: string;
  workers: number;
  slow: boolean;
  perHost: number;
}

interface RunResult {
  enqueueFanoutMs: number;
  enqueueAllMs: number;
  /** CPU time of this process from publish to all deliveries queued. */
  enqueueCpuMs: number;
  deliveriesPerSecond: number;
  /** Deliveries (to every host) per CPU second of the workers. */
  deliveriesPerCpuSecond: number;
  delivered: number;
  duplicates: number;
  failures: number;
  workerMaxRssMiB: number;
  timedOut: boolean;
}

function median(values: number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runMain(): Promise<void> {
  configureLogging("error");
  const inboxes = Number(args.inboxes);
  const hostCount = Number(args.hosts);
  const runs = Number(args.runs);
  const slowMs = Number(args["slow-ms"]);
  const perHost = Number(args["per-host"]);
  const timeoutMs = Number(args["timeout-s"]) * 1000;
  console.log(
    `Fan-out benchmark: ${inboxes} inboxes on ${hostCount} loopback hosts, ${runs} run(s) per scenario, per-host limit ${perHost}, ` +
      `delivery concurrency ${DEFAULT_DELIVERY.concurrency} per worker, slow host ${slowMs} ms, Node ${process.version}.`,
  );

  const sinks = spawnRole("sinks", ["--hosts", String(hostCount)]);
  const { ports } = await nextMessage<Extract<FromSinks, { type: "ready" }>>(sinks, "ready");
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const dataDir = mkdtempSync(join(tmpdir(), "fedalign-bench-fanout-"));
  const instance = await openInstance({ dataDir, origin, allowPrivateAddress: true });
  const server: ServerType = await listen(instance.app.fetch, port, "127.0.0.1", DEFAULT_SERVER_LIMITS);
  const stopQueues = new AbortController();
  // This process fans out (one message -> one delivery per inbox); workers deliver.
  void instance.federation.startQueue(instance.data, { signal: stopQueues.signal, queue: "fanout" });

  const content = policyContentSchema.parse({
    title: "Benchmark policy",
    summary: "Published to many servers.",
    licence: "CC-BY-4.0",
    clauses: Array.from({ length: 10 }, (_, i) => ({ id: `c${i}`, authority: "guideline", text: `Rule ${i}.` })),
  });
  const steward = await createUser(instance.db, { username: "stella", password: "correct horse battery staple" });
  const community = await createCommunity(instance.db, { handle: "garden", name: "Garden", steward });
  const policy = await createPolicy(instance.db, { origin, community, slug: "bench", content });
  const now = new Date();
  await instance.db.transaction(async () => {
    for (let i = 0; i < inboxes; i++) {
      const iri = `http://127.0.0.1:${ports[i % hostCount]}/users/f${i}`;
      await instance.db.insert(federatedActors).values({ iri, type: "Person", handle: `f${i}`, inboxUrl: `${iri}/inbox`, fetchedAt: now });
      await instance.db.insert(follows).values({ followerIri: iri, followeeIri: policy.ownerIri, activityIri: `${iri}#follow`, state: "accepted", updatedAt: now });
    }
  });
  const countQueued = (): Promise<number> => countRows(instance.db, fedifyQueue, eq(fedifyQueue.queue, "outbox"));

  let edits = 0;
  async function publishAndEnqueue(): Promise<{ enqueueFanoutMs: number; enqueueAllMs: number; enqueueCpuMs: number }> {
    const draft = structuredClone(content);
    draft.clauses[0]!.text += ` (edit ${++edits})`;
    await saveDraft(instance.db, await getPolicyById(instance.db, policy.id), draft);
    const cpu = process.cpuUsage();
    const started = performance.now();
    await publishVersion(instance.context, steward, policy.id, { message: `run ${edits}` });
    await instance.outbox.dispatchDue();
    const enqueueFanoutMs = performance.now() - started;
    while ((await countQueued()) < inboxes) await sleep(2);
    const enqueueAllMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return { enqueueFanoutMs, enqueueAllMs, enqueueCpuMs: (used.user + used.system) / 1000 };
  }

  async function countSinks(slowPort: number | null) {
    const counted = nextMessage<Extract<FromSinks, { type: "counted" }>>(sinks, "counted");
    sinks.send({ type: "count", slowPort } satisfies ToSinks);
    return counted;
  }

  async function run(scenario: Scenario): Promise<RunResult> {
    const slowPort = scenario.slow ? ports[0]! : null;
    sinks.send({ type: "reset" } satisfies ToSinks);
    sinks.send({ type: "slow", port: slowPort, ms: slowMs } satisfies ToSinks);
    const workers = Array.from({ length: scenario.workers }, () =>
      spawnRole("worker", ["--data", dataDir, "--origin", origin, "--per-host", String(scenario.perHost)]),
    );
    await Promise.all(workers.map((worker) => nextMessage(worker, "ready")));
    const enqueued = await publishAndEnqueue();
    // Everything is queued: the workers start together.
    const expected = slowPort === null ? inboxes : inboxes - Math.ceil(inboxes / hostCount);
    const started = performance.now();
    for (const worker of workers) worker.send({ type: "go" } satisfies ToWorker);
    let counted = await countSinks(slowPort);
    let timedOut = false;
    while (counted.verifiedElsewhere < expected) {
      if (performance.now() - started > timeoutMs) {
        timedOut = true;
        break;
      }
      await sleep(50);
      counted = await countSinks(slowPort);
    }
    const seconds = (performance.now() - started) / 1000;
    const stopped = await Promise.all(
      workers.map((worker) => {
        const done = nextMessage<Extract<FromWorker, { type: "stopped" }>>(worker, "stopped");
        worker.send({ type: "stop" } satisfies ToWorker);
        return done;
      }),
    );
    // What the slow host has not received yet is not part of the measure: clear it for the next run.
    await instance.db.delete(fedifyQueue).where(eq(fedifyQueue.queue, "outbox"));
    const final = await countSinks(slowPort);
    return {
      ...enqueued,
      deliveriesPerSecond: counted.verifiedElsewhere / seconds,
      deliveriesPerCpuSecond: counted.verified / stopped.reduce((sum, s) => sum + s.cpuSeconds, 0),
      delivered: final.verified,
      duplicates: final.duplicates,
      failures: final.failures,
      workerMaxRssMiB: Math.max(...stopped.map((s) => s.maxRssMiB)),
      timedOut,
    };
  }

  const allScenarios: Scenario[] = [
    { name: "1 worker", workers: 1, slow: false, perHost },
    { name: "2 workers", workers: 2, slow: false, perHost },
    { name: "1 worker, slow host", workers: 1, slow: true, perHost },
    { name: "1 worker, slow host, no per-host limit", workers: 1, slow: true, perHost: 1_000_000 },
  ];
  const scenarios = allScenarios.filter((s) => s.name === "1 worker" || !args.only || s.name.includes(args.only));
  const results = new Map<string, RunResult[]>(scenarios.map((s) => [s.name, []]));
  try {
    for (let r = 1; r <= runs; r++) {
      // Rotate the order, so no scenario always runs first (colder) or last.
      const order = scenarios.map((_, i) => scenarios[(i + r - 1) % scenarios.length]!);
      for (const scenario of order) {
        const result = await run(scenario);
        results.get(scenario.name)!.push(result);
        console.log(
          `run ${r} ${scenario.name.padEnd(40)} enqueue ${result.enqueueFanoutMs.toFixed(0).padStart(5)} ms (fan-out msg) ` +
            `${result.enqueueAllMs.toFixed(0).padStart(5)} ms (all ${inboxes}, ${result.enqueueCpuMs.toFixed(0)} ms CPU)  ${result.deliveriesPerSecond.toFixed(0).padStart(5)} deliveries/s` +
            `${scenario.slow ? " (other hosts)" : ""}  ${result.deliveriesPerCpuSecond.toFixed(0)} per worker CPU second  delivered ${result.delivered}  duplicates ${result.duplicates}  signature failures ${result.failures}` +
            `  worker peak RSS ${result.workerMaxRssMiB} MiB${result.timedOut ? "  TIMED OUT" : ""}`,
        );
      }
    }
  } finally {
    stopQueues.abort();
    sinks.disconnect();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    await instance.close();
    rmSync(dataDir, { recursive: true, force: true });
  }

  const med = (name: string, pick: (r: RunResult) => number) => median(results.get(name)!.map(pick));
  const base = med("1 worker", (r) => r.deliveriesPerSecond);
  console.log(`\nmedians over ${runs} run(s)                      deliveries/s   vs 1 worker   per worker CPU s`);
  for (const scenario of scenarios) {
    const rate = med(scenario.name, (r) => r.deliveriesPerSecond);
    const perCpu = med(scenario.name, (r) => r.deliveriesPerCpuSecond);
    console.log(`${scenario.name.padEnd(46)} ${rate.toFixed(0).padStart(12)}   ${(rate / base).toFixed(2).padStart(10)}   ${perCpu.toFixed(0).padStart(16)}`);
  }
  const all = [...results.values()].flat();
  console.log(`enqueue, publish -> fan-out message queued: ${median(all.map((r) => r.enqueueFanoutMs)).toFixed(0)} ms (median of ${all.length})`);
  console.log(
    `enqueue, publish -> all ${inboxes} deliveries queued: ${median(all.map((r) => r.enqueueAllMs)).toFixed(0)} ms, ` +
      `${median(all.map((r) => r.enqueueCpuMs)).toFixed(0)} ms of CPU (target < 1000)`,
  );
  console.log(
    `deliveries per second, 1 worker: ${base.toFixed(0)} wall clock, ${med("1 worker", (r) => r.deliveriesPerCpuSecond).toFixed(0)} per CPU second of the worker (target >= 250 per core)`,
  );
  const slowDrop = 1 - med("1 worker, slow host", (r) => r.deliveriesPerSecond) / base;
  const slowDropUnlimited = 1 - med("1 worker, slow host, no per-host limit", (r) => r.deliveriesPerSecond) / base;
  console.log(`other hosts' rate with one slow host: ${(slowDrop * 100).toFixed(0)} % lower (target <= 10 %); without the per-host limit: ${(slowDropUnlimited * 100).toFixed(0)} % lower`);
  console.log(`duplicates ${all.reduce((n, r) => n + r.duplicates, 0)}, signature failures ${all.reduce((n, r) => n + r.failures, 0)}`);
  console.log(`peak RSS: this process ${Math.round(process.resourceUsage().maxRSS / 1024)} MiB, a worker ${Math.max(...all.map((r) => r.workerMaxRssMiB))} MiB`);
  process.exit(0);
}

if (args.role === "sinks") await runSinks();
else if (args.role === "worker") await runWorker();
else await runMain();
