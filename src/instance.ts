/**
 * One Fedalign instance: its database (migrated at open), its Fedify
 * federation and its Hono app. `serve` wraps this in an HTTP server; tests
 * and benchmarks can open several in one process.
 */
import type { Federation, FederationQueueOptions, KvStore, MessageQueue } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import { setMaxListeners } from "node:events";
import { Hono } from "hono";
import { closeDatabase, type Db } from "../db/client.ts";
import { openInstanceDatabase } from "../db/open.ts";
import { ensureSearchIndex } from "./policies/search.ts";
import { createInstanceData, type InstanceData } from "../federation/context.ts";
import { createFedalignFederation } from "../federation/federation.ts";
import type { DeliveryOptions } from "../federation/delivery-options.ts";
import { createDocumentLoaders, USER_AGENT } from "../federation/fetch.ts";
import { SqliteKvStore } from "../federation/kv-store.ts";
import { federationMiddleware } from "../federation/hono.ts";
import { createPolicyDocuments } from "../federation/policy-documents.ts";
import { createFederationPort } from "../federation/app-port.ts";
import { effectSenders } from "../federation/effect-senders.ts";
import { OutboxDispatcher } from "../federation/outbox-dispatcher.ts";
import { ensureInstanceActor } from "./actors/local-actors.ts";
import { systemClock, type Clock } from "./app/clock.ts";
import type { AppContext } from "./app/context.ts";
import { Scheduler } from "./app/scheduler.ts";
import { pruneRemoteRows } from "./retention.ts";
import { pruneSignInLimits } from "./accounts/sign-in.ts";
import { createApi } from "./api/api.ts";
import { recordClientAddress } from "./client-address.ts";
import { limitBodies, refuseControlCharacters } from "./http-edges.ts";
import { createWeb } from "./web/web.tsx";

const logger = getLogger(["fedalign", "instance"]);

export { openInstanceDatabase, type DataDirMode } from "../db/open.ts";

export interface InstanceOptions {
  dataDir: string;
  origin: string;
  allowPrivateAddress: boolean;
  /** Take clients' addresses from X-Forwarded-For (behind a reverse proxy). */
  trustProxy?: boolean;
  /** Replace the SQLite-backed Fedify stores (the inbox benchmark's baseline does). */
  kv?: KvStore;
  queue?: MessageQueue | FederationQueueOptions;
  /** Delivery concurrency, per-host limit and circuit breaker (defaults: DEFAULT_DELIVERY). */
  delivery?: DeliveryOptions;
  /** Where use cases and scheduled jobs read the time; tests pass one they advance. */
  clock?: Clock;
  /**
   * Run the scheduled jobs on their real-time timer (default true). A test
   * that moves its own clock turns this off and calls runScheduledJobs(), so
   * a pass never lands in the middle of what it checks.
   */
  scheduleJobs?: boolean;
  /** The database, already opened with openInstanceDatabase (serve opens it first, to fail fast); closed by close(). */
  db?: Db;
}

export interface Instance {
  origin: string;
  db: Db;
  data: InstanceData;
  federation: Federation<InstanceData>;
  /** What use cases run with (src/app/). */
  context: AppContext;
  /** Carries out recorded federation effects; started by startQueue(). */
  outbox: OutboxDispatcher;
  app: Hono;
  /** Starts handling queued deliveries and inbox activities, and the scheduled jobs. */
  startQueue(): Promise<void>;
  /** Runs every scheduled job once now (closing due proposals), as the timer does; tests call it after advancing the clock. */
  runScheduledJobs(): Promise<void>;
  close(): Promise<void>;
}

export async function openInstance(options: InstanceOptions): Promise<Instance> {
  const db = options.db ?? openInstanceDatabase(options.dataDir, "create");
  await ensureInstanceActor(db, new URL(options.origin).host);
  // Versions stored before the search index existed are indexed once, here.
  await ensureSearchIndex(db);
  const kv = options.kv ?? new SqliteKvStore(db);
  const loaders = createDocumentLoaders({ kv, allowPrivateAddress: options.allowPrivateAddress, userAgent: USER_AGENT });
  const clock = options.clock ?? systemClock;
  const data = createInstanceData(db, loaders, options.allowPrivateAddress, clock);
  const federation = await createFedalignFederation({
    db,
    origin: options.origin,
    allowPrivateAddress: options.allowPrivateAddress,
    loaders,
    kv,
    queue: options.queue,
    delivery: options.delivery,
  });
  const context: AppContext = { db, origin: options.origin, clock, federation: createFederationPort(federation, options.origin, data) };
  const outbox = new OutboxDispatcher({
    db,
    clock,
    senders: effectSenders,
    contextOf: () => federation.createContext(new URL(options.origin), data),
  });
  const scheduler = new Scheduler(context);
  const app = new Hono();
  app.use(recordClientAddress(options.trustProxy ?? false), limitBodies(), refuseControlCharacters());
  app.use(federationMiddleware(federation, () => data));
  const api = createApi({ db, origin: options.origin, context });
  app.route("/api/v1", api);
  app.route("/", createPolicyDocuments(db, options.origin, () => federation.createContext(new URL(options.origin), data)));
  app.route("/", createWeb({ db, origin: options.origin, instanceName: new URL(options.origin).host, context }));

  const queueController = new AbortController();
  // Fedify's queues (inbox, outbox, fan-out, each with its listeners), the
  // outbox dispatcher and the scheduler all stop on this one signal.
  setMaxListeners(32, queueController.signal);
  let pruning: Promise<NodeJS.Timeout> | undefined;
  let queueRunning: Promise<void> | undefined;
  let outboxRunning: Promise<void> | undefined;
  return {
    origin: options.origin,
    db,
    data,
    federation,
    context,
    outbox,
    app,
    async startQueue() {
      queueRunning ??= federation.startQueue(data, { signal: queueController.signal });
      outboxRunning ??= outbox.start(queueController.signal);
      pruning ??= schedulePruning(db, outbox);
      await pruning;
      if (options.scheduleJobs ?? true) scheduler.start();
    },
    runScheduledJobs: () => scheduler.runDue(),
    async close() {
      queueController.abort();
      if (pruning) clearInterval(await pruning.catch(() => undefined));
      // Let an in-flight queue message or job finish before the database goes away.
      await Promise.race([Promise.all([queueRunning, outboxRunning, scheduler.stop()]), new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
      closeDatabase(db);
    },
  };
}

const PRUNE_INTERVAL_MS = 6 * 60 * 60 * 1000;

/** Prunes rows remote actors can create (src/retention.ts), long-dispatched outbox rows and expired sign-in counts, now and every six hours. */
async function schedulePruning(db: Db, outbox: OutboxDispatcher): Promise<NodeJS.Timeout> {
  const prune = async () => {
    const pruned = await pruneRemoteRows(db);
    if (pruned.actors + pruned.undoneFollows > 0) logger.info("Pruned {actors} stale remote actors and {undone} expired early Undos.", { actors: pruned.actors, undone: pruned.undoneFollows });
    await outbox.prune();
    await pruneSignInLimits(db, new Date());
  };
  await prune();
  // A failed pass is logged; the next one runs as planned.
  return setInterval(() => void prune().catch((error: unknown) => logger.error("Pruning failed: {error}", { error })), PRUNE_INTERVAL_MS).unref();
}
