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
 *
 * The listen loop, the options and the codec are shared with the PostgreSQL
 * queue (federation/queue-listener.ts); this file is the SQLite side.
 */
import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import type Database from "better-sqlite3";
import { AsyncLocalStorage } from "node:async_hooks";
import { resolve } from "node:path";
import type { Db, SqliteConnection } from "../db/client.ts";
import {
  delayMs,
  Listeners,
  queuedRows,
  resolveQueueOptions,
  type Claimed,
  type LeaseStore,
  type QueueOptions,
  type QueuedRow,
  type ResolvedQueueOptions,
  type WakeSource,
} from "./queue-listener.ts";

export { UndeliverableMessage, type HostLimit, type MessageCodec } from "./queue-listener.ts";

/** See QueueOptions (federation/queue-listener.ts), shared with the PostgreSQL queue. */
export type SqliteMessageQueueOptions = QueueOptions;

export class SqliteMessageQueue implements MessageQueue {
  /** Fedify keeps its own retry policies; see the module comment. */
  readonly nativeRetrial = false;

  readonly #store: QueueStore;
  readonly #channel: string;
  readonly #wakes: WakeSource;
  readonly #options: ResolvedQueueOptions;
  readonly #listeners = new Listeners();

  constructor(db: Db, options: SqliteMessageQueueOptions = {}) {
    this.#options = resolveQueueOptions(options);
    this.#store = new QueueStore(db.$client, this.#options.name, this.#options.hostLimit?.maxInFlight);
    const channel = `${WakeChannel.keyFor(db.$client)}#${this.#options.name}`;
    this.#channel = channel;
    this.#wakes = {
      subscribe: (wake) => WakeChannel.subscribe(channel, wake),
      finished: () => WakeChannel.notify(channel),
    };
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.enqueueMany([message], options);
  }

  /** All messages are inserted in one transaction: either all are queued or none. */
  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    if (messages.length === 0) return;
    const now = Date.now();
    const rows = queuedRows(messages, this.#options, options);
    const held = heldEnqueues.getStore();
    if (held?.open) {
      if (held.client !== this.#store.client) throw new Error("A held enqueue must go to a queue on the outbox's own database.");
      held.writes.push({ store: this.#store, rows, deliverAt: now + delayMs(options), now, channel: this.#channel });
      return;
    }
    await this.#store.insert(rows, now + delayMs(options), now);
    WakeChannel.notify(this.#channel);
  }

  /** Resolves once the signal (or close()) aborts and the messages in flight are done. Never rejects. */
  listen(handler: (message: any) => Promise<void> | void, options: MessageQueueListenOptions = {}): Promise<void> {
    return this.#listeners.run(this.#store, this.#wakes, handler, this.#options, options.signal);
  }

  /** Counts exclude messages in flight (leased), as the interface asks. */
  async getDepth(): Promise<MessageQueueDepth> {
    return this.#store.depth(Date.now());
  }

  /** Stops this object's listeners and waits for them; the database connection stays open (it belongs to the caller). */
  async close(): Promise<void> {
    await this.#listeners.close();
  }
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

/**
 * The SQL side of the queue: prepared statements, and the transactions that
 * need atomicity. Every method runs its statements with the connection lent
 * to the calling flow (`exclusive`, db/client.ts), so a claim or an insert
 * never lands inside a transaction another flow has open; a flow that holds
 * the connection (inside its own transaction) runs them at once, in it.
 */
class QueueStore implements LeaseStore {
  readonly client: SqliteConnection;
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

  constructor(connection: SqliteConnection, queue: string, maxInFlightPerHost?: number) {
    this.client = connection;
    const client = connection.raw;
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

  async insert(rows: QueuedRow[], deliverAt: number, now: number): Promise<void> {
    await this.client.exclusive(() => {
      this.client.raw.transaction(() => {
        for (const row of rows) this.#insert.run(this.#queue, row.message, row.orderingKey, deliverAt, now, row.host);
      })();
    });
  }

  /**
   * Leases up to `limit` due messages. IMMEDIATE takes the write lock before
   * the SELECT, so no other connection can claim the same rows in between.
   */
  async claim(limit: number, now: number, leaseMs: number): Promise<Claimed[]> {
    return await this.client.exclusive(() => this.#claimNow(limit, now, leaseMs));
  }

  #claimNow(limit: number, now: number, leaseMs: number): Claimed[] {
    return this.client.raw.transaction(() => {
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

  async complete(row: Claimed): Promise<void> {
    await this.client.exclusive(() => this.#delete.run(row.id));
  }

  async fail(row: Claimed, error: string, deliverAt: number): Promise<void> {
    await this.client.exclusive(() => this.#fail.run({ id: row.id, error, deliverAt, lockedUntil: row.lockedUntil }));
  }

  /** Extends the leases still held; returns the ids whose lease was lost. */
  async renew(rows: Claimed[], lockedUntil: number): Promise<number[]> {
    return await this.client.exclusive(() => this.#renewNow(rows, lockedUntil));
  }

  #renewNow(rows: Claimed[], lockedUntil: number): number[] {
    return this.client.raw.transaction(() => {
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

  async nextDeliverAt(now: number): Promise<number | undefined> {
    return await this.client.exclusive(() => this.#nextDeliverAt.get(this.#queue, now)?.next ?? undefined);
  }

  async depth(now: number): Promise<MessageQueueDepth> {
    const { queued, ready } = (await this.client.exclusive(() => this.#depth.get({ queue: this.#queue, now }))) ?? { queued: 0, ready: 0 };
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
  constructor(readonly client: SqliteConnection) {}
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
export async function holdEnqueues<T>(db: Db, produce: () => Promise<T>, alsoWrite: (result: T) => Promise<void> | void): Promise<T> {
  const held = new HeldEnqueues(db.$client);
  let result: T;
  try {
    result = await heldEnqueues.run(held, produce);
  } finally {
    held.open = false;
  }
  // Only database work in this transaction: `produce` (the network side) has settled.
  await db.transaction(async () => {
    for (const write of held.writes) await write.store.insert(write.rows, write.deliverAt, write.now);
    await alsoWrite(result);
  });
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

  keyFor(connection: SqliteConnection): string {
    const client = connection.raw;
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

