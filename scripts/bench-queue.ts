/**
 * The message queues alone: messages enqueued and handled per second on the
 * SQLite queue and the PostgreSQL queue, with 1 and 2 worker processes, in
 * the same run (the SQLite figure is the baseline each PostgreSQL figure is
 * divided by).
 *
 * - this process enqueues `--messages` outbox-like messages (each names one
 *   of `--hosts` hosts, under the per-host limit, as deliveries do) in
 *   batches of `--batch` through enqueueMany, while the workers drain them;
 * - workers: 1 or 2 child processes, each one queue object on its own
 *   connection (SQLite) or pool (PostgreSQL), concurrency 8, with a handler
 *   that does no work, so the figure is the queue's own cost;
 * - a run ends when every message has been handled; it then checks that the
 *   table is empty and that no message was handled twice.
 *
 * PostgreSQL: a throw-away database on FEDALIGN_TEST_POSTGRES (default: the
 * local server, as the tests use), dropped afterwards.
 *
 *   npm run bench:queue -- [--messages 5000] [--batch 100] [--hosts 100] [--per-host 4] [--runs 1]
 */
import "../src/polyfills.ts";
import { fork, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import pg from "pg";
import { closeDatabase, openDatabase } from "../db/client.ts";
import { runMigrations } from "../db/migrate.ts";
import { runPostgresMigrations } from "../db/postgres/migrate.ts";
import { SqliteMessageQueue } from "../federation/message-queue.ts";
import { PostgresMessageQueue } from "../federation/postgres-message-queue.ts";
import type { QueueOptions } from "../federation/queue-listener.ts";
import { createTempDatabase } from "../test/postgres/temp-database.ts";

const { values: args } = parseArgs({
  options: {
    role: { type: "string", default: "main" },
    messages: { type: "string", default: "5000" },
    batch: { type: "string", default: "100" },
    hosts: { type: "string", default: "100" },
    "per-host": { type: "string", default: "4" },
    runs: { type: "string", default: "1" },
    // Worker role only.
    backend: { type: "string" },
    target: { type: "string" },
  },
});

const SCRIPT = fileURLToPath(import.meta.url);
type Backend = "sqlite" | "postgres";
type Message = { n: number; host: string };
type FromWorker = { type: "ready" } | { type: "handled"; count: number } | { type: "stopped"; seen: number[]; peakRssMiB: number };

function queueOptions(): QueueOptions {
  return {
    name: "bench",
    concurrency: 8,
    hostLimit: { hostOf: (m) => (m as Message).host, maxInFlight: Number(args["per-host"]) },
  };
}

// -------------------------------------------------------------------- worker

async function runWorker(): Promise<void> {
  const backend = args.backend as Backend;
  const target = args.target!;
  let peakRss = process.memoryUsage().rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);
  const seen: number[] = [];
  const send = (message: FromWorker) => process.send!(message);
  const reporter = setInterval(() => send({ type: "handled", count: seen.length }), 50);
  let pool: pg.Pool | undefined;
  const db = backend === "sqlite" ? openDatabase(target) : undefined;
  if (backend === "postgres") pool = new pg.Pool({ connectionString: target, max: 4 });
  const mq = db ? new SqliteMessageQueue(db, queueOptions()) : new PostgresMessageQueue(pool!, queueOptions());
  const listening = mq.listen((m: Message) => void seen.push(m.n));
  process.on("message", async (message: { type: string }) => {
    if (message.type !== "stop") return;
    await mq.close();
    await listening;
    clearInterval(sampler);
    clearInterval(reporter);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (db) closeDatabase(db);
    await pool?.end();
    send({ type: "handled", count: seen.length });
    send({ type: "stopped", seen, peakRssMiB: peakRss / 2 ** 20 });
    process.disconnect();
  });
  send({ type: "ready" });
}

// ---------------------------------------------------------------------- main

interface RunResult {
  backend: Backend;
  workers: number;
  enqueuePerSecond: number;
  throughput: number;
  peakWorkerRssMiB: number;
  duplicates: number;
  left: number;
}

function waitFor(child: ChildProcess, type: FromWorker["type"]): Promise<FromWorker> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type !== type) return;
      child.off("message", onMessage);
      child.off("exit", onExit);
      resolve(message);
    };
    const onExit = (code: number | null) => reject(new Error(`worker exited (${code}) before sending ${type}`));
    child.on("message", onMessage);
    child.once("exit", onExit);
  });
}

async function oneRun(backend: Backend, workers: number): Promise<RunResult> {
  const total = Number(args.messages);
  const batch = Number(args.batch);
  const hosts = Number(args.hosts);
  // A fresh database per run.
  let target: string;
  let cleanup: () => Promise<void>;
  let enqueuer: { mq: SqliteMessageQueue | PostgresMessageQueue; left(): Promise<number>; close(): Promise<void> };
  if (backend === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "fedalign-bench-queue-"));
    target = join(dir, "bench.sqlite");
    const db = openDatabase(target);
    runMigrations(db, target);
    enqueuer = {
      mq: new SqliteMessageQueue(db, queueOptions()),
      left: async () => (db.$client.raw.prepare("SELECT count(*) AS n FROM fedify_queue").get() as { n: number }).n,
      close: async () => closeDatabase(db),
    };
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const temp = await createTempDatabase("fedalign_bench");
    target = temp.url;
    const pool = new pg.Pool({ connectionString: target, max: 4 });
    await runPostgresMigrations(pool, "the benchmark database");
    enqueuer = {
      mq: new PostgresMessageQueue(pool, queueOptions()),
      left: async () => Number((await pool.query<{ n: string }>("SELECT count(*) AS n FROM fedify_queue")).rows[0]!.n),
      close: () => pool.end(),
    };
    cleanup = () => temp.drop();
  }

  const children = Array.from({ length: workers }, () =>
    fork(SCRIPT, ["--role", "worker", "--backend", backend, "--target", target, "--per-host", String(args["per-host"])], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  await Promise.all(children.map((child) => waitFor(child, "ready")));
  const handled = new Map<ChildProcess, number>();
  for (const child of children) child.on("message", (m: FromWorker) => m.type === "handled" && handled.set(child, m.count));
  const totalHandled = () => [...handled.values()].reduce((a, b) => a + b, 0);

  const started = performance.now();
  for (let n = 0; n < total; n += batch) {
    const messages = Array.from({ length: Math.min(batch, total - n) }, (_, i) => ({ n: n + i, host: `h${(n + i) % hosts}.example` }));
    await enqueuer.mq.enqueueMany(messages);
  }
  const enqueued = performance.now();
  while (totalHandled() < total) await new Promise((r) => setTimeout(r, 5));
  const done = performance.now();

  const stopped = children.map((child) => waitFor(child, "stopped"));
  for (const child of children) child.send({ type: "stop" });
  const results = (await Promise.all(stopped)) as Extract<FromWorker, { type: "stopped" }>[];
  const seen = results.flatMap((r) => r.seen);
  const left = await enqueuer.left();
  await enqueuer.close();
  await cleanup();
  return {
    backend,
    workers,
    enqueuePerSecond: total / ((enqueued - started) / 1000),
    throughput: total / ((done - started) / 1000),
    peakWorkerRssMiB: Math.max(...results.map((r) => r.peakRssMiB)),
    duplicates: seen.length - new Set(seen).size,
    left,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const runs = Number(args.runs);
  console.log(
    `Queue benchmark: ${args.messages} messages in batches of ${args.batch}, ${args.hosts} hosts at most ${args["per-host"]} in flight each, ` +
      `concurrency 8 per worker, no-op handler; ${runs} run(s) per scenario; Node ${process.versions.node}`,
  );
  const all: RunResult[] = [];
  for (let run = 0; run < runs; run++) {
    // Alternate the backends so a busy moment on the machine hits both.
    for (const workers of [1, 2]) {
      for (const backend of ["sqlite", "postgres"] as const) {
        const result = await oneRun(backend, workers);
        all.push(result);
        console.log(
          `  run ${run + 1} ${backend.padEnd(8)} ${workers} worker(s): enqueue ${result.enqueuePerSecond.toFixed(0)}/s, ` +
            `enqueued+handled ${result.throughput.toFixed(0)}/s, peak worker RSS ${result.peakWorkerRssMiB.toFixed(0)} MiB, ` +
            `duplicates ${result.duplicates}, rows left ${result.left}`,
        );
      }
    }
  }
  console.log("\nMedians (PostgreSQL / SQLite in the same run):");
  console.log("| workers | backend | enqueue /s | enqueued+handled /s | ratio | peak worker RSS |");
  console.log("|---|---|---|---|---|---|");
  for (const workers of [1, 2]) {
    const of = (backend: Backend) => all.filter((r) => r.backend === backend && r.workers === workers);
    const baseline = median(of("sqlite").map((r) => r.throughput));
    for (const backend of ["sqlite", "postgres"] as const) {
      const rs = of(backend);
      const throughput = median(rs.map((r) => r.throughput));
      console.log(
        `| ${workers} | ${backend} | ${median(rs.map((r) => r.enqueuePerSecond)).toFixed(0)} | ${throughput.toFixed(0)} | ` +
          `${(throughput / baseline).toFixed(2)} | ${Math.max(...rs.map((r) => r.peakWorkerRssMiB)).toFixed(0)} MiB |`,
      );
    }
  }
  const bad = all.filter((r) => r.duplicates > 0 || r.left > 0);
  if (bad.length > 0) {
    console.error(`Some runs handled a message twice or left rows: ${JSON.stringify(bad)}`);
    process.exitCode = 1;
  }
  console.log(`Peak RSS of this (enqueuing) process: ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MiB`);
}

if (args.role === "worker") await runWorker();
else await main();
