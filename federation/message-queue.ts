/**
 * Fedify's message queue on the instance database (table fedify_queue).
 *
 * A message is a row; a worker claims rows by setting `locked_until` (a
 * lease) inside a BEGIN IMMEDIATE transaction, so two queue objects, on two
 * connections or in two processes, never claim the same row. The row is
 * deleted only once its handler has resolved:
 *
 * - handler throws: the row is kept (attempts + 1, last_error) and offered
 *   again after an exponential backoff. Fedify retries deliveries itself
 *   (nativeRetrial is false); this is the safety net for everything else.
 * - worker dies (SIGKILL, crash): the lease runs out and another worker, or
 *   the restarted process, claims the row again. A running handler renews
 *   its lease, so a slow handler is not taken over.
 *
 * Ordering keys: at most one message per key is in flight, and among the due
 * messages of a key the oldest (lowest id) goes first. As in Fedify's own
 * backends, a message that is merely delayed does not hold back later ones;
 * one that failed does, until its retry succeeds, so order survives failures.
 *
 * Per-host limit (optional, the outbox queue uses it): each message may name
 * the host it talks to, and the claim skips a message whose host already has
 * `hostLimit.maxInFlight` messages in flight, counted over every worker on
 * the database inside the claim's transaction. A slow or hung host then holds
 * at most that many of the workers' slots; the deliveries to other hosts
 * behind it are handed out first. A message of a busy host is not failed or
 * delayed: it is simply left for a later claim.
 *
 * Wake-ups: an enqueue or a finished message wakes at once every listener on
 * the same database file in this process; other processes are noticed by
 * polling. An idle listener sleeps until the earliest deliver_at or the poll
 * interval, whichever comes first.
 */
import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import type Database from "better-sqlite3";
import { AsyncLocalStorage } from "node:async_hooks";
import { resolve } from "node:path";
import type { Db } from "../db/client.ts";

const logger = getLogger(["fedalign", "queue"]);

export interface SqliteMessageQueueOptions {
  /**
   * Which queue of the table this object reads and writes ("default" by
   * default). Fedify can take separate inbox, outbox and fan-out queues, so
   * each can have its own concurrency.
   */
  name?: string;
  /** How often an idle listener looks for messages from other processes and expired leases. 1 s by default. */
  pollIntervalMs?: number;
  /** How long a claimed message stays invisible to other workers unless renewed. 60 s by default. */
  leaseMs?: number;
  /**
   * Messages handled at the same time by one listen() call. 8 by default:
   * Fedify's inbox and outbox handlers mostly wait on the network (fetching
   * remote actors and keys, POSTing to inboxes), so a few in flight hide that
   * latency, while the single SQLite writer and the signature checks (on the
   * main thread) cap what more parallelism could bring. Concurrency lives in
   * the queue rather than in Fedify's ParallelMessageQueue because the wrapper
   * returns before the handler ends, so the message would be deleted too soon,
   * and it cannot see our ordering keys.
   *
   * Fedify enqueues incoming activities without an ordering key, so with more
   * than 1 two activities of one sender (Follow, then Undo) may be handled
   * concurrently unless `orderingKeyOf` gives them a key; handlers are
   * started in queue order. Use 1 for strict order.
   */
  concurrency?: number;
  /**
   * The ordering key of a message enqueued without one (Fedify 2.3.6 passes
   * none for incoming activities): messages with the same key are handled
   * one at a time, oldest first.
   */
  orderingKeyOf?: (message: unknown) => string | undefined;
  /**
   * Rewrites messages on their way into the table and back out (before the
   * handler). The federation uses it to keep private keys out of queued rows.
   * A `decode` that throws `UndeliverableMessage` drops the message.
   */
  codec?: MessageCodec;
  /** At most this many messages per host in flight at once, over all workers (see the module comment). None by default. */
  hostLimit?: HostLimit;
  /** First delay before a message whose handler threw is offered again. 5 s by default. */
  retryInitialDelayMs?: number;
  /** Cap of the doubling retry delay. 1 h by default. */
  retryMaxDelayMs?: number;
}

/**
 * Which host a message talks to, and how many of one host's messages may be
 * handled at once. A policy, not storage: another queue backend can apply
 * the same one in its own claim.
 */
export interface HostLimit {
  hostOf(message: unknown): string | undefined;
  maxInFlight: number;
}

export interface MessageCodec {
  encode(message: unknown): unknown;
  decode(message: unknown): unknown | Promise<unknown>;
}

/** Thrown by a codec's `decode` for a message that can never be handled (it is dropped, with a log line). */
export class UndeliverableMessage extends Error {}

const IDENTITY: MessageCodec = { encode: (message) => message, decode: (message) => message };

type ResolvedOptions = Required<Omit<SqliteMessageQueueOptions, "hostLimit">> & Pick<SqliteMessageQueueOptions, "hostLimit">;

const DEFAULTS: ResolvedOptions = {
  name: "default",
  pollIntervalMs: 1_000,
  leaseMs: 60_000,
  concurrency: 8,
  retryInitialDelayMs: 5_000,
  retryMaxDelayMs: 3_600_000,
  orderingKeyOf: () => undefined,
  codec: IDENTITY,
};

export class SqliteMessageQueue implements MessageQueue {
  /** Fedify keeps its own retry policies; see the module comment. */
  readonly nativeRetrial = false;

  readonly #store: QueueStore;
  readonly #channel: string;
  readonly #options: ResolvedOptions;
  /** Aborted by close(): stops every listen() of this object. */
  readonly #closing = new AbortController();
  readonly #listening = new Set<Promise<void>>();

  constructor(db: Db, options: SqliteMessageQueueOptions = {}) {
    this.#options = { ...DEFAULTS, ...definedOnly(options) };
    if (!(this.#options.concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
    if (options.hostLimit && !(options.hostLimit.maxInFlight >= 1)) throw new RangeError("hostLimit.maxInFlight must be at least 1");
    this.#store = new QueueStore(db.$client, this.#options.name, this.#options.hostLimit?.maxInFlight);
    this.#channel = `${WakeChannel.keyFor(db.$client)}#${this.#options.name}`;
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.enqueueMany([message], options);
  }

  /** All messages are inserted in one transaction: either all are queued or none. */
  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    if (messages.length === 0) return;
    const { codec, orderingKeyOf, hostLimit } = this.#options;
    const now = Date.now();
    const rows = messages.map((message) => ({
      message: encodeMessage(codec.encode(message)),
      orderingKey: options?.orderingKey ?? orderingKeyOf(message) ?? null,
      host: hostLimit?.hostOf(message) ?? null,
    }));
    const held = heldEnqueues.getStore();
    if (held?.open) {
      if (held.client !== this.#store.client) throw new Error("A held enqueue must go to a queue on the outbox's own database.");
      held.writes.push({ store: this.#store, rows, deliverAt: now + delayMs(options), now, channel: this.#channel });
      return;
    }
    this.#store.insert(rows, now + delayMs(options), now);
    WakeChannel.notify(this.#channel);
  }

  /** Resolves once the signal (or close()) aborts and the messages in flight are done. Never rejects. */
  listen(handler: (message: any) => Promise<void> | void, options: MessageQueueListenOptions = {}): Promise<void> {
    const signals = [this.#closing.signal, ...(options.signal ? [options.signal] : [])];
    const listener = new Listener(this.#store, this.#channel, handler, AbortSignal.any(signals), this.#options);
    const running = listener.run();
    this.#listening.add(running);
    void running.finally(() => this.#listening.delete(running));
    return running;
  }

  /** Counts exclude messages in flight (leased), as the interface asks. */
  async getDepth(): Promise<MessageQueueDepth> {
    return this.#store.depth(Date.now());
  }

  /** Stops this object's listeners and waits for them; the database connection stays open (it belongs to the caller). */
  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.all(this.#listening);
  }
}

/** A message claimed by this process; `lockedUntil` doubles as proof that the lease is still ours. */
interface Claimed {
  id: number;
  message: string;
  attempts: number;
  lockedUntil: number;
}

/** One listen() call: a loop that keeps up to `concurrency` handlers busy. */
class Listener {
  readonly #inFlight = new Map<number, { row: Claimed; task: Promise<void> }>();
  /** Ends the current sleep; set only while sleeping. */
  #wake: (() => void) | undefined;
  /** A wake-up arrived while not sleeping: the next sleep must not happen. */
  #woken = false;
  #renewTimer: ReturnType<typeof setInterval> | undefined;

  readonly store: QueueStore;
  readonly channel: string;
  readonly handler: (message: unknown) => Promise<void> | void;
  readonly signal: AbortSignal;
  readonly options: ResolvedOptions;

  constructor(
    store: QueueStore,
    channel: string,
    handler: (message: unknown) => Promise<void> | void,
    signal: AbortSignal,
    options: ResolvedOptions,
  ) {
    this.store = store;
    this.channel = channel;
    this.handler = handler;
    this.signal = signal;
    this.options = options;
  }

  async run(): Promise<void> {
    const unsubscribe = WakeChannel.subscribe(this.channel, this.#onWake);
    this.signal.addEventListener("abort", this.#onWake);
    try {
      while (!this.signal.aborted) {
        const sleepMs = this.#fill();
        if (sleepMs === undefined) break;
        await this.#sleep(sleepMs);
      }
      // Let the handlers in flight finish: they delete (or reschedule) their rows.
      await Promise.all([...this.#inFlight.values()].map((f) => f.task));
    } catch (error) {
      logger.error("The queue listener stopped on an unexpected error: {error}", { error });
    } finally {
      unsubscribe();
      this.signal.removeEventListener("abort", this.#onWake);
      this.#stopRenewing();
    }
  }

  /** Claims what fits and starts it; returns how long to sleep, or undefined to stop. */
  #fill(): number | undefined {
    const { concurrency, pollIntervalMs } = this.options;
    const free = concurrency - this.#inFlight.size;
    // Refill in batches (a quarter of the slots) rather than after every
    // message: each claim is a write transaction. A finishing handler wakes us.
    if (free <= 0 || (this.#inFlight.size > 0 && free < Math.max(1, Math.floor(concurrency / 4)))) return pollIntervalMs;
    this.#woken = false; // this claim sees everything notified so far
    // One `now` for the claim and the look-ahead below: a message that comes
    // due in between must count as upcoming, or we would sleep past it.
    const now = Date.now();
    try {
      const claimed = this.store.claim(free, now, this.options.leaseMs);
      for (const row of claimed) this.#start(row);
      if (claimed.length === free) return pollIntervalMs;
      // Nothing else is due now: sleep until the next deliver_at, at most one poll interval.
      const next = this.store.nextDeliverAt(now);
      return next === undefined ? pollIntervalMs : Math.min(Math.max(next - Date.now(), 0), pollIntervalMs);
    } catch (error) {
      if (!this.store.isOpen()) {
        logger.warn("The database connection was closed; the queue listener stops.");
        return undefined;
      }
      logger.warn("Reading the queue failed; retrying after the poll interval: {error}", { error });
      return pollIntervalMs;
    }
  }

  #start(row: Claimed): void {
    const task = this.#handle(row).finally(() => {
      this.#inFlight.delete(row.id);
      if (this.#inFlight.size === 0) this.#stopRenewing();
      // Frees a slot here, and may unblock the next message of its ordering key for any listener.
      WakeChannel.notify(this.channel);
    });
    this.#inFlight.set(row.id, { row, task });
    this.#startRenewing();
  }

  async #handle(row: Claimed): Promise<void> {
    let failed = false;
    let failure: unknown;
    try {
      await this.handler(await this.options.codec.decode(JSON.parse(row.message)));
    } catch (error) {
      if (error instanceof UndeliverableMessage) {
        logger.error("Dropping queued message {id}: {reason}", { id: row.id, reason: error.message });
      } else {
        failed = true;
        failure = error;
      }
    }
    try {
      if (failed) this.#retryLater(row, failure);
      else this.store.complete(row.id);
    } catch (error) {
      // The row keeps its lease, which runs out: the message will be handled again.
      logger.error("Could not record the outcome of queued message {id}: {error}", { id: row.id, error });
    }
  }

  #retryLater(row: Claimed, error: unknown): void {
    const { retryInitialDelayMs, retryMaxDelayMs } = this.options;
    const delay = Math.min(retryInitialDelayMs * 2 ** row.attempts, retryMaxDelayMs);
    logger.warn("Handler failed for queued message {id} (attempt {attempt}); retrying in {delay} ms: {error}", {
      id: row.id,
      attempt: row.attempts + 1,
      delay,
      error,
    });
    this.store.fail(row, describeError(error), Date.now() + delay);
  }

  /** Renews the leases of running handlers every third of a lease, so slow handlers keep their messages. */
  #startRenewing(): void {
    if (this.#renewTimer !== undefined) return;
    this.#renewTimer = setInterval(() => this.#renewLeases(), this.options.leaseMs / 3);
    // The running handlers keep the process alive if they need to; this timer must not.
    this.#renewTimer.unref();
  }

  #stopRenewing(): void {
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
  }

  #renewLeases(): void {
    const rows = [...this.#inFlight.values()].map((f) => f.row);
    try {
      const lost = this.store.renew(rows, Date.now() + this.options.leaseMs);
      for (const id of lost) logger.warn("Lost the lease of queued message {id}; another worker may handle it too.", { id });
    } catch (error) {
      logger.warn("Renewing message leases failed: {error}", { error });
    }
  }

  #onWake = (): void => {
    if (this.#wake) this.#wake();
    else this.#woken = true;
  };

  /** Sleeps ms, or less if woken (enqueue, finished handler, abort). The timer is cleared on wake. */
  #sleep(ms: number): Promise<void> {
    if (this.#woken || this.signal.aborted) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.#wake = done;
    });
  }
}

/** A message on its way into the table. */
interface QueuedRow {
  message: string;
  orderingKey: string | null;
  host: string | null;
}

/** A claimable row as the claim scan sees it (from the covering index, without the message body). */
interface Candidate {
  id: number;
  attempts: number;
  host: string | null;
}

/** Rows looked at per page of the claim scan, and at most in one claim (past a busy host's backlog). */
const CLAIM_SCAN_PAGE = 256;
const CLAIM_SCAN_MAX = 8_192;

/** The SQL side of the queue: prepared statements, and the transactions that need atomicity. */
class QueueStore {
  readonly client: Database.Database;
  readonly #insert: Database.Statement<[string, string, string | null, number, number, string | null]>;
  readonly #selectCandidates: Database.Statement<[{ queue: string; now: number; afterDeliverAt: number; afterId: number; limit: number }], Candidate & { deliverAt: number }>;
  readonly #selectMessage: Database.Statement<[number], { message: string }>;
  readonly #inFlightByHost: Database.Statement<[string, number], { host: string; count: number }>;
  readonly #lock: Database.Statement<[number, number]>;
  readonly #delete: Database.Statement<[number]>;
  readonly #fail: Database.Statement<[{ id: number; error: string; deliverAt: number; lockedUntil: number }]>;
  readonly #renew: Database.Statement<[{ id: number; old: number; lockedUntil: number }]>;
  readonly #nextDeliverAt: Database.Statement<[string, number], { next: number | null }>;
  readonly #depth: Database.Statement<[{ queue: string; now: number }], { queued: number; ready: number }>;

  readonly #queue: string;
  readonly #maxInFlightPerHost: number | undefined;

  constructor(client: Database.Database, queue: string, maxInFlightPerHost?: number) {
    this.client = client;
    this.#queue = queue;
    this.#maxInFlightPerHost = maxInFlightPerHost;
    this.#insert = client.prepare(
      "INSERT INTO fedify_queue (queue, message, ordering_key, deliver_at, created_at, host) VALUES (?, ?, ?, ?, ?, ?)",
    );
    // Due and not leased; with an ordering key, also: no message of the same
    // key in flight, and no older one of that key that is due or awaiting
    // the retry of a failure (see the module comment). Read a page at a time,
    // after (deliverAt, id) of the previous page, from the covering index.
    this.#selectCandidates = client.prepare(`
      SELECT id, attempts, host, deliver_at AS deliverAt FROM fedify_queue AS q
      WHERE q.queue = @queue AND q.deliver_at <= @now
        AND (q.deliver_at, q.id) > (@afterDeliverAt, @afterId)
        AND (q.locked_until IS NULL OR q.locked_until <= @now)
        AND (q.ordering_key IS NULL OR NOT EXISTS (
          SELECT 1 FROM fedify_queue AS p
          WHERE p.queue = q.queue AND p.ordering_key = q.ordering_key AND p.id <> q.id
            AND (p.locked_until > @now
              OR (p.id < q.id AND (p.deliver_at <= @now OR p.attempts > 0)))))
      ORDER BY q.deliver_at, q.id
      LIMIT @limit`);
    this.#selectMessage = client.prepare("SELECT message FROM fedify_queue WHERE id = ?");
    this.#inFlightByHost = client.prepare(`
      SELECT host, COUNT(*) AS count FROM fedify_queue
      WHERE queue = ? AND locked_until > ? AND host IS NOT NULL GROUP BY host`);
    this.#lock = client.prepare("UPDATE fedify_queue SET locked_until = ? WHERE id = ?");
    this.#delete = client.prepare("DELETE FROM fedify_queue WHERE id = ?");
    // "AND locked_until = @lockedUntil": only while the lease is still ours.
    this.#fail = client.prepare(`
      UPDATE fedify_queue
      SET attempts = attempts + 1, last_error = @error, deliver_at = @deliverAt, locked_until = NULL
      WHERE id = @id AND locked_until = @lockedUntil`);
    this.#renew = client.prepare(
      "UPDATE fedify_queue SET locked_until = @lockedUntil WHERE id = @id AND locked_until = @old",
    );
    this.#nextDeliverAt = client.prepare("SELECT MIN(deliver_at) AS next FROM fedify_queue WHERE queue = ? AND deliver_at > ?");
    this.#depth = client.prepare(`
      SELECT COUNT(*) AS queued, COALESCE(SUM(deliver_at <= @now), 0) AS ready FROM fedify_queue
      WHERE queue = @queue AND (locked_until IS NULL OR locked_until <= @now)`);
  }

  isOpen(): boolean {
    return this.client.open;
  }

  insert(rows: QueuedRow[], deliverAt: number, now: number): void {
    this.client.transaction(() => {
      for (const row of rows) this.#insert.run(this.#queue, row.message, row.orderingKey, deliverAt, now, row.host);
    })();
  }

  /**
   * Leases up to `limit` due messages. IMMEDIATE takes the write lock before
   * the SELECT, so no other connection can claim the same rows in between.
   */
  claim(limit: number, now: number, leaseMs: number): Claimed[] {
    return this.client.transaction(() => {
      const picked = this.#pick(limit, now);
      const lockedUntil = now + leaseMs;
      return picked.map((row) => {
        this.#lock.run(lockedUntil, row.id);
        return { id: row.id, attempts: row.attempts, message: this.#selectMessage.get(row.id)!.message, lockedUntil };
      });
    }).immediate();
  }

  /**
   * The first `limit` claimable rows in queue order, skipping those whose
   * host has no free slot. Pages on past a busy host's backlog, up to
   * CLAIM_SCAN_MAX rows; what lies beyond waits for a later claim.
   */
  #pick(limit: number, now: number): Candidate[] {
    const max = this.#maxInFlightPerHost;
    const inFlight = new Map<string, number>();
    if (max !== undefined) for (const { host, count } of this.#inFlightByHost.all(this.#queue, now)) inFlight.set(host, count);
    const picked: Candidate[] = [];
    let after = { deliverAt: Number.MIN_SAFE_INTEGER, id: 0 };
    // Most claims take one or two rows (a slot freed): read a little more than
    // that first, and whole pages only when busy hosts' rows are in the way.
    let pageSize = max === undefined ? limit : Math.min(limit * 2 + 8, CLAIM_SCAN_PAGE);
    for (let scanned = 0; scanned < CLAIM_SCAN_MAX && picked.length < limit; ) {
      const page = this.#selectCandidates.all({ queue: this.#queue, now, afterDeliverAt: after.deliverAt, afterId: after.id, limit: pageSize });
      for (const row of page) {
        if (picked.length === limit) break;
        if (max !== undefined && row.host !== null) {
          const busy = inFlight.get(row.host) ?? 0;
          if (busy >= max) continue;
          inFlight.set(row.host, busy + 1);
        }
        picked.push(row);
      }
      if (page.length < pageSize) break;
      scanned += page.length;
      after = page.at(-1)!;
      pageSize = CLAIM_SCAN_PAGE;
    }
    return picked;
  }

  complete(id: number): void {
    this.#delete.run(id);
  }

  fail(row: Claimed, error: string, deliverAt: number): void {
    this.#fail.run({ id: row.id, error, deliverAt, lockedUntil: row.lockedUntil });
  }

  /** Extends the leases still held; returns the ids whose lease was lost. */
  renew(rows: Claimed[], lockedUntil: number): number[] {
    return this.client.transaction(() => {
      const lost: number[] = [];
      for (const row of rows) {
        if (this.#renew.run({ id: row.id, old: row.lockedUntil, lockedUntil }).changes === 1) {
          row.lockedUntil = lockedUntil;
        } else {
          lost.push(row.id);
        }
      }
      return lost;
    }).immediate();
  }

  nextDeliverAt(now: number): number | undefined {
    return this.#nextDeliverAt.get(this.#queue, now)?.next ?? undefined;
  }

  depth(now: number): MessageQueueDepth {
    const { queued, ready } = this.#depth.get({ queue: this.#queue, now }) ?? { queued: 0, ready: 0 };
    return { queued, ready, delayed: queued - ready };
  }
}

interface HeldWrite {
  store: QueueStore;
  rows: QueuedRow[];
  deliverAt: number;
  now: number;
  channel: string;
}

/** Messages enqueued while `holdEnqueues` runs, not yet written. */
class HeldEnqueues {
  readonly writes: HeldWrite[] = [];
  /**
   * False once `produce` has settled. Work started inside it (a queue
   * listener Fedify starts on first use) inherits the async context; its
   * later enqueues must go straight to the table.
   */
  open = true;
  constructor(readonly client: Database.Database) {}
}

const heldEnqueues = new AsyncLocalStorage<HeldEnqueues>();

/**
 * Runs `produce` (which enqueues, typically through Fedify's sendActivity)
 * while holding back every message it enqueues on a SqliteMessageQueue of
 * `db`, then writes them all together with `alsoWrite` in one transaction.
 * The outbox dispatcher marks an effect dispatched in that transaction, so
 * either the effect's messages are queued and it is marked, or neither
 * happened and it is tried again: a crash never sends an effect twice.
 * If `produce` throws, nothing it enqueued is written.
 */
export async function holdEnqueues<T>(db: Db, produce: () => Promise<T>, alsoWrite: (result: T) => void): Promise<T> {
  const held = new HeldEnqueues(db.$client);
  let result: T;
  try {
    result = await heldEnqueues.run(held, produce);
  } finally {
    held.open = false;
  }
  db.$client.transaction(() => {
    for (const write of held.writes) write.store.insert(write.rows, write.deliverAt, write.now);
    alsoWrite(result);
  }).immediate();
  for (const channel of new Set(held.writes.map((write) => write.channel))) WakeChannel.notify(channel);
  return result;
}

/**
 * In-process wake-ups, shared by every queue object on the same database
 * file (keyed by its absolute path; an in-memory database only by its own
 * connection). Looked up by key on each use, so an empty channel can go.
 */
const WakeChannel = {
  channels: new Map<string, Set<() => void>>(),
  memoryKeys: new WeakMap<Database.Database, string>(),
  nextMemoryId: 0,

  keyFor(client: Database.Database): string {
    if (!client.memory && client.name !== "") return `file:${resolve(client.name)}`;
    let key = this.memoryKeys.get(client);
    if (key === undefined) {
      key = `memory:${this.nextMemoryId++}`;
      this.memoryKeys.set(client, key);
    }
    return key;
  },

  subscribe(key: string, wake: () => void): () => void {
    let listeners = this.channels.get(key);
    if (listeners === undefined) {
      listeners = new Set();
      this.channels.set(key, listeners);
    }
    listeners.add(wake);
    return () => {
      listeners.delete(wake);
      if (listeners.size === 0 && this.channels.get(key) === listeners) this.channels.delete(key);
    };
  },

  notify(key: string): void {
    for (const wake of this.channels.get(key) ?? []) wake();
  },
};

function encodeMessage(message: unknown): string {
  const json = message === undefined ? undefined : JSON.stringify(message);
  if (json === undefined) throw new TypeError("A queued message must be JSON-serialisable.");
  return json;
}

function delayMs(options?: MessageQueueEnqueueOptions): number {
  if (options?.delay === undefined) return 0;
  return Math.max(0, Math.round(options.delay.total("millisecond")));
}

function describeError(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return text.slice(0, 4_000);
}

/** Drops keys explicitly set to undefined, so they do not override the defaults. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
