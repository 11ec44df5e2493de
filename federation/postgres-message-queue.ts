/**
 * Fedify's message queue on PostgreSQL (table fedify_queue), the counterpart
 * of federation/message-queue.ts: the same rows, options, lease, ordering
 * keys, per-host limit and held enqueues, with the same listen loop
 * (federation/queue-listener.ts). What differs is how workers in several
 * processes stay out of each other's way:
 *
 * - Claims: `SELECT … FOR UPDATE SKIP LOCKED` picks due rows that no other
 *   claim is taking, and the same statement sets their lease
 *   (`locked_until`), so claims in many processes run side by side and no
 *   row is handed out twice. The row is deleted only once its handler has
 *   resolved; a worker that dies (kill -9, a lost machine) leaves a lease that
 *   runs out, and the row is claimed again. A running handler renews its
 *   lease every third of it.
 * - Ordering keys: a row is claimable only if no row of its key is in flight
 *   and no older row of its key is due or awaiting a retry. Of the rows of
 *   one key at most one is claimable at a time, and a concurrent claim that
 *   has not committed yet holds that row's lock, so two workers never run two
 *   messages of one key at once.
 * - Per-host limit: counting the host's messages in flight and taking more
 *   must not interleave with another worker doing the same, so a queue with
 *   a host limit serialises its claims on a transaction-scoped advisory lock
 *   (one per queue name; claims are short). Queues without a limit take no
 *   such lock.
 * - Wake-ups: an enqueue sends `NOTIFY fedalign_queue` (payload: the queue
 *   name) in the transaction that inserts the rows, so listeners in every
 *   process hear of it once the rows are visible. So does a finished message
 *   that had an ordering key or a host, since it may free the next one for
 *   another worker. Each pool has one dedicated listening connection (not
 *   taken from the pool), shared by the queue objects on it; while it is
 *   down (the server restarted) listeners fall back to polling and it
 *   reconnects. An idle listener sleeps until the earliest deliver_at or the
 *   poll interval, whichever comes first.
 *
 * Times (deliver_at, locked_until) are epoch milliseconds from the worker's
 * own clock, as in the SQLite queue: workers on several machines need clocks
 * kept in step (NTP); a skew of a second or two is nothing against a 60 s
 * lease.
 */
import type {
  MessageQueue,
  MessageQueueDepth,
  MessageQueueEnqueueOptions,
  MessageQueueListenOptions,
} from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";
import pg from "pg";
import { AsyncLocalStorage } from "node:async_hooks";
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

const logger = getLogger(["fedalign", "queue"]);

/** The channel every queue notifies on; the payload names the queue. */
export const QUEUE_CHANNEL = "fedalign_queue";

/** See QueueOptions (federation/queue-listener.ts), shared with the SQLite queue. */
export type PostgresMessageQueueOptions = QueueOptions;

export class PostgresMessageQueue implements MessageQueue {
  /** Fedify keeps its own retry policies; see federation/message-queue.ts. */
  readonly nativeRetrial = false;

  readonly #pool: pg.Pool;
  readonly #store: PgQueueStore;
  readonly #options: ResolvedQueueOptions;
  readonly #listeners = new Listeners();
  #notifier: Notifier | undefined;

  /** The pool belongs to the caller (it is the instance's, shared with the store and the KvStore). */
  constructor(pool: pg.Pool, options: PostgresMessageQueueOptions = {}) {
    this.#pool = pool;
    this.#options = resolveQueueOptions(options);
    this.#store = new PgQueueStore(pool, this.#options.name, this.#options.hostLimit?.maxInFlight);
  }

  enqueue(message: unknown, options?: MessageQueueEnqueueOptions): Promise<void> {
    return this.enqueueMany([message], options);
  }

  /** All messages are inserted by one statement: either all are queued or none. */
  async enqueueMany(messages: readonly unknown[], options?: MessageQueueEnqueueOptions): Promise<void> {
    if (messages.length === 0) return;
    const now = Date.now();
    const rows = queuedRows(messages, this.#options, options);
    const held = heldEnqueues.getStore();
    if (held?.open) {
      if (held.pool !== this.#pool) throw new Error("A held enqueue must go to a queue on the outbox's own database pool.");
      held.writes.push({ store: this.#store, rows, deliverAt: now + delayMs(options), now });
      return;
    }
    await this.#store.insert(this.#pool, rows, now + delayMs(options), now);
  }

  /** Resolves once the signal (or close()) aborts and the messages in flight are done. Never rejects. */
  listen(handler: (message: any) => Promise<void> | void, options: MessageQueueListenOptions = {}): Promise<void> {
    if (this.#listeners.closed) return Promise.resolve();
    this.#notifier ??= Notifier.acquire(this.#pool);
    const notifier = this.#notifier;
    const name = this.#options.name;
    const wakes: WakeSource<PgClaimed> = {
      subscribe: (wake) => notifier.subscribe(name, wake),
      // complete() and fail() notify in their own statement when it matters.
      finished: () => {},
    };
    return this.#listeners.run(this.#store, wakes, handler, this.#options, options.signal);
  }

  /** Counts exclude messages in flight (leased), as the interface asks. */
  async getDepth(): Promise<MessageQueueDepth> {
    return this.#store.depth(Date.now());
  }

  /** Stops this object's listeners, waits for them, and closes the listening connection if no other queue uses it. The pool stays open (it belongs to the caller). */
  async close(): Promise<void> {
    await this.#listeners.close();
    const notifier = this.#notifier;
    this.#notifier = undefined;
    await notifier?.release();
  }
}

/** A claimed row, with what decides whether finishing it must wake other workers. */
interface PgClaimed extends Claimed {
  orderingKey: string | null;
  host: string | null;
  deliverAt: number;
}

interface RawClaimed {
  id: string | number;
  attempts: number;
  message: string;
  ordering_key: string | null;
  host: string | null;
  deliver_at: string | number;
}

/** Rows looked at per page of a host-limited claim, and at most in one claim (past busy hosts' backlogs). */
const CLAIM_SCAN_PAGE = 256;
const CLAIM_SCAN_MAX = 8_192;
/** First key of the advisory lock that serialises host-limited claims (the second is the queue name's hash). */
const CLAIM_LOCK_CLASS = 0x46_65_64_71; // "Fedq"

/**
 * Due, not leased, and with an ordering key: no message of the same key in
 * flight, and no older one of that key that is due or awaiting the retry of
 * a failure. $1 is the queue, $2 now.
 */
const CLAIMABLE = `q.queue = $1 AND q.deliver_at <= $2
  AND (q.locked_until IS NULL OR q.locked_until <= $2)
  AND (q.ordering_key IS NULL OR NOT EXISTS (
    SELECT 1 FROM fedify_queue AS p
    WHERE p.queue = q.queue AND p.ordering_key = q.ordering_key AND p.id <> q.id
      AND (p.locked_until > $2 OR (p.id < q.id AND (p.deliver_at <= $2 OR p.attempts > 0)))))`;

const LEASE_RETURNING = "RETURNING f.id, f.attempts, f.message, f.ordering_key, f.host, f.deliver_at";

/** Claim without a host limit: pick and lease in one statement. $3 limit, $4 lease end. */
const CLAIM = `WITH picked AS (
    SELECT q.id FROM fedify_queue AS q WHERE ${CLAIMABLE}
    ORDER BY q.deliver_at, q.id LIMIT $3 FOR UPDATE OF q SKIP LOCKED)
  UPDATE fedify_queue AS f SET locked_until = $4 FROM picked WHERE f.id = picked.id
  ${LEASE_RETURNING}`;

/** A page of candidates for a host-limited claim, after ($3, $4) = (deliver_at, id) of the previous page. $5 page size. */
const CANDIDATES = `SELECT q.id, q.host, q.deliver_at FROM fedify_queue AS q
  WHERE ${CLAIMABLE} AND (q.deliver_at, q.id) > ($3, $4)
  ORDER BY q.deliver_at, q.id LIMIT $5`;

const IN_FLIGHT_BY_HOST = `SELECT host, count(*)::int AS count FROM fedify_queue
  WHERE queue = $1 AND locked_until > $2 AND host IS NOT NULL GROUP BY host`;

/** Leases the rows a host-limited claim picked ($1 ids, $2 now, $3 lease end), skipping any taken meanwhile. */
const LEASE_PICKED = `WITH picked AS (
    SELECT q.id FROM fedify_queue AS q
    WHERE q.id = ANY($1::bigint[]) AND (q.locked_until IS NULL OR q.locked_until <= $2)
    FOR UPDATE OF q SKIP LOCKED)
  UPDATE fedify_queue AS f SET locked_until = $3 FROM picked WHERE f.id = picked.id
  ${LEASE_RETURNING}`;

/** $1 queue, $2 deliver_at, $3 created_at, $4.. the rows' columns, in order (ids follow the array order). */
const INSERT = `WITH inserted AS (
    INSERT INTO fedify_queue (queue, message, ordering_key, deliver_at, created_at, host)
    SELECT $1, t.message, t.ordering_key, $2, $3, t.host
    FROM unnest($4::text[], $5::text[], $6::text[]) WITH ORDINALITY AS t(message, ordering_key, host, n)
    ORDER BY t.n
    RETURNING 1)
  SELECT pg_notify('${QUEUE_CHANNEL}', $1)`;

const COMPLETE = "DELETE FROM fedify_queue WHERE id = $1";
const COMPLETE_NOTIFY = `WITH done AS (DELETE FROM fedify_queue WHERE id = $1 RETURNING queue)
  SELECT pg_notify('${QUEUE_CHANNEL}', queue) FROM done`;
// "AND locked_until = $4": only while the lease is still ours.
const FAIL = `UPDATE fedify_queue SET attempts = attempts + 1, last_error = $2, deliver_at = $3, locked_until = NULL
  WHERE id = $1 AND locked_until = $4 RETURNING queue, host`;
const NOTIFY = `SELECT pg_notify('${QUEUE_CHANNEL}', $1)`;
const RENEW = `UPDATE fedify_queue AS f SET locked_until = $1
  FROM unnest($2::bigint[], $3::bigint[]) AS r(id, old)
  WHERE f.id = r.id AND f.locked_until = r.old RETURNING f.id`;
const NEXT_DELIVER_AT = "SELECT min(deliver_at) AS next FROM fedify_queue WHERE queue = $1 AND deliver_at > $2";
const DEPTH = `SELECT count(*)::int AS queued, (count(*) FILTER (WHERE deliver_at <= $2))::int AS ready FROM fedify_queue
  WHERE queue = $1 AND (locked_until IS NULL OR locked_until <= $2)`;

/** The SQL side of the queue. */
class PgQueueStore implements LeaseStore<PgClaimed> {
  readonly #pool: pg.Pool;
  readonly #queue: string;
  readonly #maxInFlightPerHost: number | undefined;

  constructor(pool: pg.Pool, queue: string, maxInFlightPerHost?: number) {
    this.#pool = pool;
    this.#queue = queue;
    this.#maxInFlightPerHost = maxInFlightPerHost;
  }

  isOpen(): boolean {
    return !this.#pool.ending && !this.#pool.ended;
  }

  /** Inserts the rows and notifies listeners, on the pool or on a client inside the caller's transaction (held enqueues). */
  async insert(on: pg.Pool | pg.PoolClient, rows: QueuedRow[], deliverAt: number, now: number): Promise<void> {
    await on.query({
      name: "fedalign_queue_insert",
      text: INSERT,
      values: [
        this.#queue,
        deliverAt,
        now,
        rows.map((r) => r.message),
        rows.map((r) => r.orderingKey),
        rows.map((r) => r.host),
      ],
    });
  }

  async claim(limit: number, now: number, leaseMs: number): Promise<PgClaimed[]> {
    const lockedUntil = now + leaseMs;
    if (this.#maxInFlightPerHost === undefined) {
      const { rows } = await this.#pool.query<RawClaimed>({ name: "fedalign_queue_claim", text: CLAIM, values: [this.#queue, now, limit, lockedUntil] });
      return claimed(rows, lockedUntil);
    }
    const client = await this.#pool.connect();
    let broken: Error | undefined;
    try {
      await client.query("BEGIN");
      try {
        await client.query({ name: "fedalign_queue_claim_lock", text: "SELECT pg_advisory_xact_lock($1, hashtext($2))", values: [CLAIM_LOCK_CLASS, this.#queue] });
        const ids = await this.#pick(client, limit, now, this.#maxInFlightPerHost);
        const { rows } =
          ids.length === 0
            ? { rows: [] }
            : await client.query<RawClaimed>({ name: "fedalign_queue_lease_picked", text: LEASE_PICKED, values: [ids, now, lockedUntil] });
        await client.query("COMMIT");
        return claimed(rows, lockedUntil);
      } catch (error) {
        await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
        throw error;
      }
    } finally {
      client.release(broken);
    }
  }

  /**
   * The ids of the first `limit` claimable rows in queue order, skipping those
   * whose host has no free slot (counting the ones picked here). Pages on
   * past a busy host's backlog, up to CLAIM_SCAN_MAX rows; what lies beyond
   * waits for a later claim. Runs under the claim lock, so the counts hold.
   */
  async #pick(client: pg.PoolClient, limit: number, now: number, max: number): Promise<number[]> {
    const inFlight = new Map<string, number>();
    const busy = await client.query<{ host: string; count: number }>({ name: "fedalign_queue_in_flight", text: IN_FLIGHT_BY_HOST, values: [this.#queue, now] });
    for (const { host, count } of busy.rows) inFlight.set(host, count);
    const picked: number[] = [];
    let after: { deliverAt: number | string; id: number | string } = { deliverAt: Number.MIN_SAFE_INTEGER, id: 0 };
    // Most claims take one or two rows (a slot freed): read a little more than
    // that first, and whole pages only when busy hosts' rows are in the way.
    let pageSize = Math.min(limit * 2 + 8, CLAIM_SCAN_PAGE);
    for (let scanned = 0; scanned < CLAIM_SCAN_MAX && picked.length < limit; ) {
      const { rows: page } = await client.query<{ id: string; host: string | null; deliver_at: string }>({
        name: "fedalign_queue_candidates",
        text: CANDIDATES,
        values: [this.#queue, now, after.deliverAt, after.id, pageSize],
      });
      for (const row of page) {
        if (picked.length === limit) break;
        if (row.host !== null) {
          const count = inFlight.get(row.host) ?? 0;
          if (count >= max) continue;
          inFlight.set(row.host, count + 1);
        }
        picked.push(Number(row.id));
      }
      if (page.length < pageSize) break;
      scanned += page.length;
      const last = page.at(-1)!;
      after = { deliverAt: last.deliver_at, id: last.id };
      pageSize = CLAIM_SCAN_PAGE;
    }
    return picked;
  }

  async complete(row: PgClaimed): Promise<void> {
    // A finished message of a key or a host may let another worker take the next one.
    if (row.orderingKey !== null || row.host !== null) {
      await this.#pool.query({ name: "fedalign_queue_complete_notify", text: COMPLETE_NOTIFY, values: [row.id] });
    } else {
      await this.#pool.query({ name: "fedalign_queue_complete", text: COMPLETE, values: [row.id] });
    }
  }

  async fail(row: PgClaimed, error: string, deliverAt: number): Promise<void> {
    // The next message of the key stays behind the failed one; a host's slot is freed.
    const { rows } = await this.#pool.query<{ queue: string; host: string | null }>({
      name: "fedalign_queue_fail",
      text: FAIL,
      values: [row.id, error, deliverAt, row.lockedUntil],
    });
    if (rows[0]?.host != null) await this.#pool.query({ name: "fedalign_queue_notify", text: NOTIFY, values: [rows[0].queue] });
  }

  async renew(rows: PgClaimed[], lockedUntil: number): Promise<number[]> {
    if (rows.length === 0) return [];
    const { rows: renewed } = await this.#pool.query<{ id: string }>({
      name: "fedalign_queue_renew",
      text: RENEW,
      values: [lockedUntil, rows.map((r) => r.id), rows.map((r) => r.lockedUntil)],
    });
    const kept = new Set(renewed.map((r) => Number(r.id)));
    const lost: number[] = [];
    for (const row of rows) {
      if (kept.has(row.id)) row.lockedUntil = lockedUntil;
      else lost.push(row.id);
    }
    return lost;
  }

  async nextDeliverAt(now: number): Promise<number | undefined> {
    const { rows } = await this.#pool.query<{ next: string | null }>({ name: "fedalign_queue_next", text: NEXT_DELIVER_AT, values: [this.#queue, now] });
    const next = rows[0]?.next;
    return next === null || next === undefined ? undefined : Number(next);
  }

  async depth(now: number): Promise<MessageQueueDepth> {
    const { rows } = await this.#pool.query<{ queued: number; ready: number }>({ name: "fedalign_queue_depth", text: DEPTH, values: [this.#queue, now] });
    const { queued, ready } = rows[0] ?? { queued: 0, ready: 0 };
    return { queued, ready, delayed: queued - ready };
  }
}

/** Leased rows in queue order (UPDATE … RETURNING promises none). */
function claimed(rows: RawClaimed[], lockedUntil: number): PgClaimed[] {
  return rows
    .map((r) => ({
      id: Number(r.id),
      attempts: r.attempts,
      message: r.message,
      orderingKey: r.ordering_key,
      host: r.host,
      deliverAt: Number(r.deliver_at),
      lockedUntil,
    }))
    .sort((a, b) => a.deliverAt - b.deliverAt || a.id - b.id);
}

interface HeldWrite {
  store: PgQueueStore;
  rows: QueuedRow[];
  deliverAt: number;
  now: number;
}

/** Messages enqueued while `holdPostgresEnqueues` runs, not yet written. */
class HeldEnqueues {
  readonly writes: HeldWrite[] = [];
  /**
   * False once `produce` has settled. Work started inside it (a queue
   * listener Fedify starts on first use) inherits the async context; its
   * later enqueues must go straight to the table.
   */
  open = true;
  constructor(readonly pool: pg.Pool) {}
}

const heldEnqueues = new AsyncLocalStorage<HeldEnqueues>();

/**
 * Runs `produce` (which enqueues, typically through Fedify's sendActivity)
 * while holding back every message it enqueues on a PostgresMessageQueue of
 * `pool`, then writes them all in one transaction on one connection of the
 * pool, in which `alsoWrite` runs too (it gets that connection; wrap it with
 * drizzle() to use the schema). The outbox dispatcher marks an effect
 * dispatched there, so either the effect's messages are queued and it is
 * marked, or neither happened and it is tried again: a crash never sends an
 * effect twice. Listeners hear of the messages when the transaction commits.
 * If `produce` or `alsoWrite` throws, nothing is written.
 */
export async function holdPostgresEnqueues<T>(
  pool: pg.Pool,
  produce: () => Promise<T>,
  alsoWrite: (result: T, client: pg.PoolClient) => Promise<void>,
): Promise<T> {
  const held = new HeldEnqueues(pool);
  let result: T;
  try {
    result = await heldEnqueues.run(held, produce);
  } finally {
    held.open = false;
  }
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    try {
      for (const write of held.writes) await write.store.insert(client, write.rows, write.deliverAt, write.now);
      await alsoWrite(result, client);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch((rollbackError: Error) => (broken = rollbackError));
      throw error;
    }
  } finally {
    client.release(broken);
  }
  return result;
}

/**
 * The listening connection of one pool: a pg.Client of its own (LISTEN needs
 * a session that stays put, which a pooled connection is not), made with the
 * pool's settings, shared by every queue object on the pool and closed when
 * the last one is. Wakes the subscribers of a queue name when a notification
 * names it, and all of them after (re)connecting, since notifications sent
 * while it was down are lost.
 */
class Notifier {
  static readonly #byPool = new WeakMap<pg.Pool, Notifier>();

  static acquire(pool: pg.Pool): Notifier {
    let notifier = Notifier.#byPool.get(pool);
    if (notifier === undefined) {
      notifier = new Notifier(pool);
      Notifier.#byPool.set(pool, notifier);
    }
    notifier.#users++;
    if (notifier.#users === 1) notifier.#connect();
    return notifier;
  }

  readonly #pool: pg.Pool;
  readonly #subscribers = new Map<string, Set<() => void>>();
  #users = 0;
  #client: pg.Client | undefined;
  #retryTimer: ReturnType<typeof setTimeout> | undefined;

  private constructor(pool: pg.Pool) {
    this.#pool = pool;
  }

  subscribe(queue: string, wake: () => void): () => void {
    let wakes = this.#subscribers.get(queue);
    if (wakes === undefined) {
      wakes = new Set();
      this.#subscribers.set(queue, wakes);
    }
    wakes.add(wake);
    return () => {
      wakes.delete(wake);
      if (wakes.size === 0 && this.#subscribers.get(queue) === wakes) this.#subscribers.delete(queue);
    };
  }

  async release(): Promise<void> {
    this.#users--;
    if (this.#users > 0) return;
    Notifier.#byPool.delete(this.#pool);
    clearTimeout(this.#retryTimer);
    const client = this.#client;
    this.#client = undefined;
    await client?.end().catch(() => {});
  }

  #connect(): void {
    this.#retryTimer = undefined;
    if (this.#users === 0 || this.#pool.ending) return;
    const client = new pg.Client(this.#pool.options);
    this.#client = client;
    const dropped = (error?: Error): void => {
      if (this.#client !== client) return; // released, or already replaced
      this.#client = undefined;
      client.end().catch(() => {});
      if (this.#users === 0) return;
      logger.warn("The queue's listening connection was lost; polling until it is back: {error}", { error });
      this.#retryTimer = setTimeout(() => this.#connect(), 1_000);
      this.#retryTimer.unref();
    };
    client.on("notification", (notification) => {
      if (notification.channel !== QUEUE_CHANNEL || notification.payload === undefined) return;
      for (const wake of this.#subscribers.get(notification.payload) ?? []) wake();
    });
    client.on("error", dropped);
    client.on("end", () => dropped());
    client
      .connect()
      .then(() => client.query(`LISTEN ${QUEUE_CHANNEL}`))
      .then(() => {
        if (this.#client !== client) return;
        for (const wakes of this.#subscribers.values()) for (const wake of wakes) wake();
      })
      .catch((error: Error) => dropped(error));
  }
}
