/**
 * What Fedalign's message queues share, whatever the database under them
 * (federation/message-queue.ts on SQLite, federation/postgres-message-queue.ts
 * on PostgreSQL): the options, the codec and host-limit policies, and the
 * listen() loop that claims leased rows, runs the handler on them, and
 * deletes, reschedules or renews them. A backend supplies a `LeaseStore`
 * (its SQL) and a `WakeSource` (how it learns that there is work).
 */
import type { MessageQueueEnqueueOptions } from "@fedify/fedify";
import { getLogger } from "@logtape/logtape";

const logger = getLogger(["fedalign", "queue"]);

export interface QueueOptions {
  /**
   * Which queue of the table this object reads and writes ("default" by
   * default). Fedify can take separate inbox, outbox and fan-out queues, so
   * each can have its own concurrency.
   */
  name?: string;
  /** How often an idle listener looks for messages it was not woken for, and for expired leases. 1 s by default. */
  pollIntervalMs?: number;
  /** How long a claimed message stays invisible to other workers unless renewed. 60 s by default. */
  leaseMs?: number;
  /**
   * Messages handled at the same time by one listen() call. 8 by default:
   * Fedify's inbox and outbox handlers mostly wait on the network (fetching
   * remote actors and keys, POSTing to inboxes), so a few in flight hide that
   * latency, while the database writes and the signature checks (on the
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
  /**
   * At most this many messages per host in flight at once, over all workers
   * on the database. None by default. Every queue object of one queue name
   * must be given the same limit.
   */
  hostLimit?: HostLimit;
  /** First delay before a message whose handler threw is offered again. 5 s by default. */
  retryInitialDelayMs?: number;
  /** Cap of the doubling retry delay. 1 h by default. */
  retryMaxDelayMs?: number;
}

/**
 * Which host a message talks to, and how many of one host's messages may be
 * handled at once. A policy, not storage: each queue backend applies it in
 * its own claim.
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

export type ResolvedQueueOptions = Required<Omit<QueueOptions, "hostLimit">> & Pick<QueueOptions, "hostLimit">;

const DEFAULTS: ResolvedQueueOptions = {
  name: "default",
  pollIntervalMs: 1_000,
  leaseMs: 60_000,
  concurrency: 8,
  retryInitialDelayMs: 5_000,
  retryMaxDelayMs: 3_600_000,
  orderingKeyOf: () => undefined,
  codec: IDENTITY,
};

/** The options with their defaults, checked. */
export function resolveQueueOptions(options: QueueOptions): ResolvedQueueOptions {
  const resolved = { ...DEFAULTS, ...definedOnly(options) };
  if (!(resolved.concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
  if (!(resolved.leaseMs > 0)) throw new RangeError("leaseMs must be positive");
  if (!(resolved.pollIntervalMs > 0)) throw new RangeError("pollIntervalMs must be positive");
  if (options.hostLimit && !(options.hostLimit.maxInFlight >= 1)) throw new RangeError("hostLimit.maxInFlight must be at least 1");
  return resolved;
}

/** A message on its way into the table. */
export interface QueuedRow {
  message: string;
  orderingKey: string | null;
  host: string | null;
}

/** Encodes messages for the table, with their ordering key and host. Throws TypeError for a message without JSON form. */
export function queuedRows(messages: readonly unknown[], options: ResolvedQueueOptions, enqueue?: MessageQueueEnqueueOptions): QueuedRow[] {
  const { codec, orderingKeyOf, hostLimit } = options;
  return messages.map((message) => ({
    message: encodeMessage(codec.encode(message)),
    orderingKey: enqueue?.orderingKey ?? orderingKeyOf(message) ?? null,
    host: hostLimit?.hostOf(message) ?? null,
  }));
}

/** A message claimed by this process; `lockedUntil` doubles as proof that the lease is still ours. */
export interface Claimed {
  id: number;
  message: string;
  attempts: number;
  lockedUntil: number;
}

/** A backend's SQL side, as the listen loop uses it. Methods may answer synchronously (SQLite) or not (PostgreSQL). */
export interface LeaseStore<R extends Claimed = Claimed> {
  /** Leases up to `limit` due messages until now + leaseMs, oldest first, honouring ordering keys and the host limit. */
  claim(limit: number, now: number, leaseMs: number): R[] | Promise<R[]>;
  /** Deletes a handled message. */
  complete(row: R): void | Promise<void>;
  /** Releases a failed message for another try at `deliverAt` (attempts + 1), if the lease is still ours. */
  fail(row: R, error: string, deliverAt: number): void | Promise<void>;
  /** Extends the leases still held (updating each row's lockedUntil); returns the ids whose lease was lost. */
  renew(rows: R[], lockedUntil: number): number[] | Promise<number[]>;
  /** The earliest deliver_at after `now`, if any message is waiting for its time. */
  nextDeliverAt(now: number): number | undefined | Promise<number | undefined>;
  /** False once the connection (or pool) is closed for good: the listener then stops. */
  isOpen(): boolean;
}

/** How a listener learns that there may be work: enqueues, and finished messages elsewhere. */
export interface WakeSource<R extends Claimed = Claimed> {
  subscribe(wake: () => void): () => void;
  /** A message handled here is done (deleted or rescheduled): other listeners may now claim what it held back. */
  finished(row: R): void;
}

/**
 * The listen() calls of one queue object: each runs a Listener until its
 * own signal or the queue's close() aborts it; close() waits for them all.
 */
export class Listeners {
  readonly #closing = new AbortController();
  readonly #running = new Set<Promise<void>>();

  get closed(): boolean {
    return this.#closing.signal.aborted;
  }

  /** Resolves once `signal` (or close()) aborts and the messages in flight are done. Never rejects. */
  run<R extends Claimed>(
    store: LeaseStore<R>,
    wakes: WakeSource<R>,
    handler: (message: unknown) => Promise<void> | void,
    options: ResolvedQueueOptions,
    signal?: AbortSignal,
  ): Promise<void> {
    const signals = [this.#closing.signal, ...(signal ? [signal] : [])];
    const running = new Listener(store, wakes, handler, AbortSignal.any(signals), options).run();
    this.#running.add(running);
    void running.finally(() => this.#running.delete(running));
    return running;
  }

  async close(): Promise<void> {
    this.#closing.abort();
    await Promise.all(this.#running);
  }
}

/** One listen() call: a loop that keeps up to `concurrency` handlers busy. */
export class Listener<R extends Claimed = Claimed> {
  readonly #inFlight = new Map<number, { row: R; task: Promise<void> }>();
  /** Ends the current sleep; set only while sleeping. */
  #wake: (() => void) | undefined;
  /** A wake-up arrived while not sleeping: the next sleep must not happen. */
  #woken = false;
  #renewTimer: ReturnType<typeof setInterval> | undefined;
  #renewing = false;

  readonly store: LeaseStore<R>;
  readonly wakes: WakeSource<R>;
  readonly handler: (message: unknown) => Promise<void> | void;
  readonly signal: AbortSignal;
  readonly options: ResolvedQueueOptions;

  constructor(
    store: LeaseStore<R>,
    wakes: WakeSource<R>,
    handler: (message: unknown) => Promise<void> | void,
    signal: AbortSignal,
    options: ResolvedQueueOptions,
  ) {
    this.store = store;
    this.wakes = wakes;
    this.handler = handler;
    this.signal = signal;
    this.options = options;
  }

  /** Resolves once the signal aborts (or the store closes) and the handlers in flight are done. Never rejects. */
  async run(): Promise<void> {
    const unsubscribe = this.wakes.subscribe(this.#onWake);
    this.signal.addEventListener("abort", this.#onWake);
    try {
      while (!this.signal.aborted) {
        const sleepMs = await this.#fill();
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
  async #fill(): Promise<number | undefined> {
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
      const claimed = await this.store.claim(free, now, this.options.leaseMs);
      // Aborted while claiming: the rows were leased all the same; handle them
      // (run() waits for them) rather than leave them until the lease runs out.
      for (const row of claimed) this.#start(row);
      if (claimed.length === free) return pollIntervalMs;
      // Nothing else is due now: sleep until the next deliver_at, at most one poll interval.
      const next = await this.store.nextDeliverAt(now);
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

  #start(row: R): void {
    const task = this.#handle(row).finally(() => {
      this.#inFlight.delete(row.id);
      if (this.#inFlight.size === 0) this.#stopRenewing();
      // Frees a slot here, and may unblock the next message of its ordering key (or host) for any listener.
      this.#onWake();
      this.wakes.finished(row);
    });
    this.#inFlight.set(row.id, { row, task });
    this.#startRenewing();
  }

  async #handle(row: R): Promise<void> {
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
      if (failed) await this.#retryLater(row, failure);
      else await this.store.complete(row);
    } catch (error) {
      // The row keeps its lease, which runs out: the message will be handled again.
      logger.error("Could not record the outcome of queued message {id}: {error}", { id: row.id, error });
    }
  }

  async #retryLater(row: R, error: unknown): Promise<void> {
    const { retryInitialDelayMs, retryMaxDelayMs } = this.options;
    const delay = Math.min(retryInitialDelayMs * 2 ** row.attempts, retryMaxDelayMs);
    logger.warn("Handler failed for queued message {id} (attempt {attempt}); retrying in {delay} ms: {error}", {
      id: row.id,
      attempt: row.attempts + 1,
      delay,
      error,
    });
    await this.store.fail(row, describeError(error), Date.now() + delay);
  }

  /** Renews the leases of running handlers every third of a lease, so slow handlers keep their messages. */
  #startRenewing(): void {
    if (this.#renewTimer !== undefined) return;
    this.#renewTimer = setInterval(() => void this.#renewLeases(), this.options.leaseMs / 3);
    // The running handlers keep the process alive if they need to; this timer must not.
    this.#renewTimer.unref();
  }

  #stopRenewing(): void {
    clearInterval(this.#renewTimer);
    this.#renewTimer = undefined;
  }

  async #renewLeases(): Promise<void> {
    if (this.#renewing) return; // the previous renewal is still waiting on the database
    this.#renewing = true;
    const rows = [...this.#inFlight.values()].map((f) => f.row);
    try {
      const lost = await this.store.renew(rows, Date.now() + this.options.leaseMs);
      for (const id of lost) logger.warn("Lost the lease of queued message {id}; another worker may handle it too.", { id });
    } catch (error) {
      logger.warn("Renewing message leases failed: {error}", { error });
    } finally {
      this.#renewing = false;
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

export function encodeMessage(message: unknown): string {
  const json = message === undefined ? undefined : JSON.stringify(message);
  if (json === undefined) throw new TypeError("A queued message must be JSON-serialisable.");
  return json;
}

export function delayMs(options?: MessageQueueEnqueueOptions): number {
  if (options?.delay === undefined) return 0;
  return Math.max(0, Math.round(options.delay.total("millisecond")));
}

export function describeError(error: unknown): string {
  const text = error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);
  return text.slice(0, 4_000);
}

/** Drops keys explicitly set to undefined, so they do not override the defaults. */
function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as Partial<T>;
}
