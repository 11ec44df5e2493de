/**
 * Jobs the instance runs on a timer, with its clock: today, closing the
 * proposals whose time has come. A pass runs every job once; the instance
 * starts passes every `intervalMs` (src/instance.ts startQueue), and tests
 * run one directly after advancing their clock (`instance.runScheduledJobs()`).
 * A job that throws is logged; the next pass tries again.
 *
 * With several worker processes on one database, a pass runs in one of them
 * at a time: each pass first takes (or renews) the "scheduled jobs" lease
 * (./job-leases.ts), and a process that does not get it skips the pass.
 */
import { getLogger } from "@logtape/logtape";
import type { AppContext } from "./context.ts";
import { closeDueProposals } from "./proposals.ts";
import { newHolder, releaseLease, takeLease } from "./job-leases.ts";

const logger = getLogger(["fedalign", "app", "scheduler"]);

export interface ScheduledJob {
  name: string;
  run(ctx: AppContext): unknown;
}

export const scheduledJobs: readonly ScheduledJob[] = [{ name: "close due proposals", run: closeDueProposals }];

/** 15 s: a proposal closes (and its outcome federates) at most this long after its time. */
export const SCHEDULER_INTERVAL_MS = 15_000;

/** The lease a pass needs. It outlives a few intervals, so a holder that dies is replaced within a minute or so. */
export const SCHEDULER_LEASE = "scheduled jobs";

export class Scheduler {
  readonly #ctx: AppContext;
  readonly #jobs: readonly ScheduledJob[];
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;
  readonly #holder = newHolder();

  constructor(ctx: AppContext, options: { jobs?: readonly ScheduledJob[]; intervalMs?: number } = {}) {
    this.#ctx = ctx;
    this.#jobs = options.jobs ?? scheduledJobs;
    this.#intervalMs = options.intervalMs ?? SCHEDULER_INTERVAL_MS;
  }

  /** Runs every job once; a call during a pass waits for that pass and then runs another (it may see newer changes). */
  async runDue(): Promise<void> {
    while (this.#pass) await this.#pass;
    this.#pass = this.#runAll().finally(() => (this.#pass = undefined));
    return this.#pass;
  }

  async #runAll(): Promise<void> {
    const leaseMs = Math.max(4 * this.#intervalMs, 60_000);
    try {
      if (!(await takeLease(this.#ctx.db, SCHEDULER_LEASE, this.#holder, this.#ctx.clock.now(), leaseMs))) return;
    } catch (error) {
      if (!this.#ctx.db.$client.open) return;
      logger.error("Could not take the scheduler's lease; the next pass tries again: {error}", { error });
      return;
    }
    for (const job of this.#jobs) {
      try {
        await job.run(this.#ctx);
      } catch (error) {
        if (!this.#ctx.db.$client.open) return;
        logger.error("The scheduled job {name} failed; it runs again in the next pass: {error}", { name: job.name, error });
      }
    }
  }

  /** Runs a pass now and then every interval, until stop(). */
  start(): void {
    if (this.#timer) return;
    // runDue logs each job's failure; these catch anything else, so a
    // failed pass is never a silent unhandled rejection.
    const pass = (): void =>
      void this.runDue().catch((error: unknown) => logger.error("A scheduler pass failed: {error}", { error }));
    pass();
    this.#timer = setInterval(() => {
      if (!this.#pass) pass();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer, waits for a pass in progress and hands the lease back, so another worker takes over at once. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass;
    if (this.#ctx.db.$client.open) await releaseLease(this.#ctx.db, SCHEDULER_LEASE, this.#holder).catch(() => {});
  }
}
