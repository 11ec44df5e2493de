/**
 * The transactional outbox, federation side. Use cases record effects in
 * the transaction of their change (src/app/outbox.ts); this dispatcher
 * claims due rows, carries each out through its sender (./effect-senders.ts)
 * and marks it dispatched in the same SQLite transaction that writes the
 * Fedify queue messages the sender produced (holdEnqueues). So:
 *
 * - a crash before that transaction leaves the row due: it is carried out
 *   again on restart, and nothing of the first attempt was queued;
 * - a crash after it leaves the messages queued and the row marked: Fedify's
 *   queue delivers them, and the effect is not carried out again.
 *
 * A sender that throws (a remote actor that cannot be looked up, say) is
 * retried with doubling backoff, up to `maxAttempts`; then the row is
 * abandoned with its last error, and the log says so. Claims are leases
 * (`due_at` moved forward), so several processes on one database never
 * carry out the same effect at once, and a dead one's claims run out.
 */
import { getLogger } from "@logtape/logtape";
import { and, asc, eq, isNull, lt, lte } from "drizzle-orm";
import { first, type Db } from "../db/client.ts";
import { outbox } from "../db/schema.ts";
import { systemClock, type Clock } from "../src/app/clock.ts";
import type { Effect, EffectKind } from "../src/app/effects.ts";
import { onEffectRecorded } from "../src/app/outbox.ts";
import type { FedCtx } from "./context.ts";
import { holdEnqueues } from "./message-queue.ts";

const logger = getLogger(["fedalign", "federation", "outbox"]);

/** How each kind of effect is carried out; every kind must have one. */
export type EffectSenders = {
  [K in EffectKind]: (ctx: FedCtx, effect: Extract<Effect, { kind: K }>) => Promise<void>;
};

export interface OutboxDispatcherOptions {
  db: Db;
  contextOf: () => FedCtx;
  senders: EffectSenders;
  clock?: Clock;
  /** How often an idle dispatcher looks for effects recorded by other processes (the admin CLI). 2 s by default. */
  pollIntervalMs?: number;
  /** How long a claimed row stays invisible to other dispatchers. 5 minutes by default. */
  leaseMs?: number;
  /** First retry delay; doubles per attempt up to 6 hours. 30 s by default. */
  retryInitialDelayMs?: number;
  /** Attempts before a row is abandoned. 14 by default (about two days of retries). */
  maxAttempts?: number;
  /** Dispatched rows are kept this long (for inspection), then deleted. 7 days by default. */
  keepDispatchedMs?: number;
  /** Fault injection for crash tests: runs at the named point of each effect's dispatch. */
  faults?: { afterClaim?: (id: number) => void; beforeCommit?: (id: number) => void; afterCommit?: (id: number) => void };
}

const RETRY_MAX_DELAY_MS = 6 * 3_600_000;

export class OutboxDispatcher {
  readonly #db: Db;
  readonly #options: Required<Omit<OutboxDispatcherOptions, "db" | "faults">> & Pick<OutboxDispatcherOptions, "faults">;
  #running: Promise<void> | undefined;
  #wake: (() => void) | undefined;
  #woken = false;
  #pass: Promise<number> | undefined;

  constructor(options: OutboxDispatcherOptions) {
    this.#db = options.db;
    this.#options = {
      clock: systemClock,
      pollIntervalMs: 2_000,
      leaseMs: 5 * 60_000,
      retryInitialDelayMs: 30_000,
      maxAttempts: 14,
      keepDispatchedMs: 7 * 24 * 3_600_000,
      ...options,
    };
  }

  /** Dispatches until the signal aborts, woken at once by effects recorded in this process. */
  start(signal: AbortSignal): Promise<void> {
    this.#running ??= this.#loop(signal);
    return this.#running;
  }

  /**
   * Carries out every effect that is due now, in the order recorded, and
   * returns how many were dispatched. Concurrent calls share one pass.
   */
  dispatchDue(): Promise<number> {
    this.#pass ??= this.#dispatchAll().finally(() => (this.#pass = undefined));
    return this.#pass;
  }

  async #loop(signal: AbortSignal): Promise<void> {
    const stopListening = onEffectRecorded(this.#db, () => this.#poke());
    const onAbort = () => this.#poke();
    signal.addEventListener("abort", onAbort);
    try {
      while (!signal.aborted) {
        this.#woken = false;
        try {
          await this.dispatchDue();
        } catch (error) {
          if (!this.#db.$client.open) break;
          logger.error("The outbox dispatcher failed a pass; it tries again: {error}", { error });
        }
        if (signal.aborted) break;
        if (!this.#woken) await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.#options.pollIntervalMs);
          this.#wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.#wake = undefined;
      }
    } finally {
      stopListening();
      signal.removeEventListener("abort", onAbort);
    }
  }

  #poke(): void {
    this.#woken = true;
    this.#wake?.();
  }

  async #dispatchAll(): Promise<number> {
    let dispatched = 0;
    for (;;) {
      const row = await this.#claimNext();
      if (!row) return dispatched;
      if (await this.#dispatch(row)) dispatched++;
    }
  }

  /** Leases the oldest due row, or returns undefined when none is due. One statement, so atomic across processes. */
  async #claimNext(): Promise<typeof outbox.$inferSelect | undefined> {
    const now = this.#options.clock.now();
    const oldestDue = this.#db
      .select({ id: outbox.id })
      .from(outbox)
      .where(and(isNull(outbox.dispatchedAt), isNull(outbox.abandonedAt), lte(outbox.dueAt, now)))
      .orderBy(asc(outbox.id))
      .limit(1);
    return await first(
      this.#db
        .update(outbox)
        .set({ dueAt: new Date(now.getTime() + this.#options.leaseMs) })
        .where(eq(outbox.id, oldestDue))
        .returning(),
    );
  }

  async #dispatch(row: typeof outbox.$inferSelect): Promise<boolean> {
    const { senders, faults, contextOf, clock } = this.#options;
    faults?.afterClaim?.(row.id);
    const effect = { ...row.payload, kind: row.kind } as Effect;
    const sender = (senders as Record<string, ((ctx: FedCtx, effect: Effect) => Promise<void>) | undefined>)[row.kind];
    if (!sender) {
      await this.#fail(row, new Error(`No sender for the effect kind "${row.kind}" (written by another version of Fedalign?)`), true);
      return false;
    }
    try {
      await holdEnqueues(
        this.#db,
        () => sender(contextOf(), effect),
        async () => {
          faults?.beforeCommit?.(row.id);
          await this.#db
            .update(outbox)
            .set({ dispatchedAt: clock.now(), attempts: row.attempts + 1, lastError: null })
            .where(eq(outbox.id, row.id));
        },
      );
      faults?.afterCommit?.(row.id);
      return true;
    } catch (error) {
      await this.#fail(row, error, false);
      return false;
    }
  }

  async #fail(row: typeof outbox.$inferSelect, error: unknown, permanent: boolean): Promise<void> {
    const { clock, maxAttempts, retryInitialDelayMs } = this.#options;
    const attempts = row.attempts + 1;
    const now = clock.now();
    const message = error instanceof Error ? error.message : String(error);
    const giveUp = permanent || attempts >= maxAttempts;
    const delay = Math.min(retryInitialDelayMs * 2 ** (attempts - 1), RETRY_MAX_DELAY_MS);
    await this.#db
      .update(outbox)
      .set({
        attempts,
        lastError: message.slice(0, 2_000),
        dueAt: new Date(now.getTime() + delay),
        ...(giveUp ? { abandonedAt: now } : {}),
      })
      .where(eq(outbox.id, row.id));
    if (giveUp) {
      logger.error("Gave up on the effect {kind} #{id} after {attempts} attempts: {message}", { kind: row.kind, id: row.id, attempts, message });
    } else {
      logger.warn("Could not carry out the effect {kind} #{id} (attempt {attempts}); retrying in {seconds} s: {message}", {
        kind: row.kind,
        id: row.id,
        attempts,
        seconds: Math.round(delay / 1000),
        message,
      });
    }
  }

  /** Deletes rows dispatched longer ago than `keepDispatchedMs`; run with the instance's other pruning, not on every pass. */
  async prune(): Promise<number> {
    const before = new Date(this.#options.clock.now().getTime() - this.#options.keepDispatchedMs);
    return (await this.#db.delete(outbox).where(lt(outbox.dispatchedAt, before)).returning({ id: outbox.id })).length;
  }
}
