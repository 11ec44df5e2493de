/**
 * Inbox throughput: signed Follow activities per second accepted (HTTP 202)
 * and processed (listener done) by an instance over loopback HTTP, with
 * Fedalign's SQLite KvStore/MessageQueue against the same instance built on
 * Fedify's MemoryKvStore/InProcessMessageQueue, measured in one run.
 *
 *   npm run bench:inbox -- [--activities 1000] [--concurrency 16] [--rounds 3] [--senders 20]
 *
 * Rounds alternate the two stacks; the summary gives medians and the ratio
 * of the medians (persistent / in-memory). Everything runs in this process
 * on 127.0.0.1; nothing else on the network is touched.
 */
import "../src/polyfills.ts";
import { InProcessMessageQueue, MemoryKvStore, signRequest } from "@fedify/fedify";
import { serve, type ServerType } from "@hono/node-server";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { eq } from "drizzle-orm";
import { actorKeys } from "../db/schema.ts";
import { createUser, type User } from "../src/accounts/users.ts";
import { importKeyPair } from "../src/actors/keys.ts";
import { createCommunity } from "../src/communities.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { configureLogging } from "../src/logging.ts";
import { freePort } from "../test/harness.ts";

const { values: args } = parseArgs({
  options: {
    activities: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "16" },
    rounds: { type: "string", default: "3" },
    senders: { type: "string", default: "20" },
    warmup: { type: "string", default: "100" },
    only: { type: "string" },
  },
});
const ACTIVITIES = Number(args.activities);
const CONCURRENCY = Number(args.concurrency);
const ROUNDS = Number(args.rounds);
const SENDERS = Number(args.senders);
const WARMUP = Number(args.warmup);

type Stack = "sqlite" | "memory";

/** Requests each server answered: the sender's count shows how often receivers re-fetch keys and actors. */
const requestsServed = new Map<string, number>();

interface Running {
  instance: Instance;
  server: ServerType;
  dataDir: string;
}

async function start(stack: Stack | "sender"): Promise<Running> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), `fedalign-bench-${stack}-`));
  const memory = stack !== "sqlite";
  const instance = await openInstance({
    dataDir,
    origin: `http://127.0.0.1:${port}`,
    allowPrivateAddress: true,
    ...(memory ? { kv: new MemoryKvStore(), queue: new InProcessMessageQueue() } : {}),
  });
  const fetch = (request: Request) => {
    requestsServed.set(stack, (requestsServed.get(stack) ?? 0) + 1);
    return instance.app.fetch(request);
  };
  const server = await new Promise<ServerType>((resolve) => {
    const s = serve({ fetch, port, hostname: "127.0.0.1" }, () => resolve(s));
  });
  await instance.startQueue();
  return { instance, server, dataDir };
}

async function stop(running: Running): Promise<void> {
  running.server.close();
  await running.instance.close();
  rmSync(running.dataDir, { recursive: true, force: true });
}

interface Signer {
  actor: string;
  keyId: URL;
  privateKey: CryptoKey;
}

async function signersOf(sender: Running, users: User[]): Promise<Signer[]> {
  return Promise.all(
    users.map(async (user) => {
      const row = (await sender.instance.db
        .select()
        .from(actorKeys)
        .where(eq(actorKeys.actorId, user.actorId)))
        .find((key) => key.algorithm === "RSASSA-PKCS1-v1_5")!;
      const actor = `${sender.instance.origin}/actors/${user.username}`;
      const pair = await importKeyPair(row);
      return { actor, keyId: new URL(`${actor}#main-key`), privateKey: pair.privateKey };
    }),
  );
}

interface Prepared {
  url: string;
  headers: [string, string][];
  body: string;
}

/** Signs every request before the clock starts, so only the receiver is measured. */
async function prepare(count: number, signers: Signer[], inbox: string, target: string): Promise<Prepared[]> {
  const prepared: Prepared[] = [];
  for (let i = 0; i < count; i++) {
    const signer = signers[i % signers.length]!;
    const body = JSON.stringify({
      "@context": "https://www.w3.org/ns/activitystreams",
      id: `${signer.actor}#follows/${crypto.randomUUID()}`,
      type: "Follow",
      actor: signer.actor,
      object: target,
    });
    const request = new Request(inbox, { method: "POST", headers: { "Content-Type": "application/activity+json" }, body });
    const signed = await signRequest(request, signer.privateKey, signer.keyId);
    prepared.push({ url: inbox, headers: [...signed.headers], body });
  }
  return prepared;
}

async function send(requests: Prepared[]): Promise<number> {
  let next = 0;
  let failures = 0;
  const worker = async () => {
    while (next < requests.length) {
      const request = requests[next++]!;
      const response = await fetch(request.url, { method: "POST", headers: request.headers, body: request.body });
      await response.arrayBuffer();
      if (response.status !== 202) failures++;
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return failures;
}

async function waitProcessed(instance: Instance, count: number, timeoutMs = 300_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (instance.data.inboxStats.processed + instance.data.inboxStats.failed < count) {
    if (Date.now() > deadline) throw new Error(`only ${instance.data.inboxStats.processed} of ${count} processed`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

interface RoundResult {
  stack: Stack;
  acceptedPerSecond: number;
  processedPerSecond: number;
  failures: number;
  peakRssMiB: number;
  senderRequests: number;
}

async function round(stack: Stack, sender: Running, signers: Signer[]): Promise<RoundResult> {
  const receiver = await start(stack);
  try {
    const steward = await createUser(receiver.instance.db, { username: "steward", password: "bench password" });
    // Approving by hand: the receiver stores each request and sends nothing back,
    // so the figure is the inbox alone.
    await createCommunity(receiver.instance.db, { handle: "bench", name: "Bench", steward, manuallyApprovesFollowers: true });
    const target = `${receiver.instance.origin}/actors/bench`;
    const inbox = `${target}/inbox`;
    const warmup = await prepare(WARMUP, signers, inbox, target);
    const measured = await prepare(ACTIVITIES, signers, inbox, target);

    // Warm-up: fills the receiver's key and document caches.
    await send(warmup);
    await waitProcessed(receiver.instance, WARMUP);

    peakRss = process.memoryUsage().rss;
    const senderRequestsBefore = requestsServed.get("sender") ?? 0;
    const started = performance.now();
    const failures = await send(measured);
    const acceptedAt = performance.now();
    await waitProcessed(receiver.instance, WARMUP + ACTIVITIES);
    const processedAt = performance.now();
    return {
      stack,
      acceptedPerSecond: ACTIVITIES / ((acceptedAt - started) / 1000),
      processedPerSecond: ACTIVITIES / ((processedAt - started) / 1000),
      failures: failures + receiver.instance.data.inboxStats.failed,
      peakRssMiB: peakRss / 2 ** 20,
      senderRequests: (requestsServed.get("sender") ?? 0) - senderRequestsBefore,
    };
  } finally {
    await stop(receiver);
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main() {
  configureLogging("error");
  console.log(
    `Inbox benchmark: ${ACTIVITIES} signed Follow activities per round (after ${WARMUP} warm-up), ` +
      `${CONCURRENCY} concurrent senders, ${SENDERS} sender actors, ${ROUNDS} rounds per stack, Node ${process.version}.`,
  );
  const sender = await start("sender");
  const users: User[] = [];
  for (let i = 0; i < SENDERS; i++) users.push(await createUser(sender.instance.db, { username: `sender${i}`, password: "bench password" }));
  const signers = await signersOf(sender, users);

  const results: RoundResult[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Alternate which stack goes first, so drift on a noisy machine hits both.
    const both: Stack[] = r % 2 === 0 ? ["sqlite", "memory"] : ["memory", "sqlite"];
    // --only sqlite|memory: one stack alone, for profiling.
    const order = both.filter((stack) => args.only === undefined || args.only === stack);
    for (const stack of order) {
      const result = await round(stack, sender, signers);
      results.push(result);
      console.log(
        `round ${r + 1} ${stack.padEnd(6)}  accepted ${result.acceptedPerSecond.toFixed(0).padStart(5)}/s  ` +
          `processed ${result.processedPerSecond.toFixed(0).padStart(5)}/s  failures ${result.failures}  fetches from sender ${result.senderRequests}  peak RSS ${result.peakRssMiB.toFixed(0)} MiB`,
      );
    }
  }
  await stop(sender);
  clearInterval(sampler);

  const summary = (stack: Stack) => {
    const mine = results.filter((r) => r.stack === stack);
    return {
      accepted: median(mine.map((r) => r.acceptedPerSecond)),
      processed: median(mine.map((r) => r.processedPerSecond)),
      rss: Math.max(...mine.map((r) => r.peakRssMiB)),
    };
  };
  if (args.only !== undefined) return;
  const sqlite = summary("sqlite");
  const memory = summary("memory");
  console.log("\nmedians                        accepted/s  processed/s  peak RSS");
  console.log(`SQLite KvStore + MessageQueue   ${sqlite.accepted.toFixed(0).padStart(10)}  ${sqlite.processed.toFixed(0).padStart(11)}  ${sqlite.rss.toFixed(0)} MiB`);
  console.log(`MemoryKvStore + InProcessMQ     ${memory.accepted.toFixed(0).padStart(10)}  ${memory.processed.toFixed(0).padStart(11)}  ${memory.rss.toFixed(0)} MiB`);
  console.log(
    `ratio (SQLite / memory)         ${(sqlite.accepted / memory.accepted).toFixed(2).padStart(10)}  ${(sqlite.processed / memory.processed).toFixed(2).padStart(11)}   (target >= 0.90 processed)`,
  );
}

await main();
process.exit(0);
