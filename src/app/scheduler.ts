/**
 * Jobs the instance runs on a timer, with its clock: today, closing the
 * proposals whose time has come. A pass runs every job once; the instance
 * starts passes every `intervalMs` (src/instance.ts startQueue), and tests
 * run one directly after advancing their clock (`instance.runScheduledJobs()`).
 * A job that throws is logged; the next pass tries again.
 */
import { getLogger } from "@logtape/logtape";
import type { AppContext } from "./context.ts";
import { closeDueProposals } from "./proposals.ts";

const logger = getLogger(["fedalign", "app", "scheduler"]);

export interface ScheduledJob {
  name: string;
  run(ctx: AppContext): unknown;
}

export const scheduledJobs: readonly ScheduledJob[] = [{ name: "close due proposals", run: closeDueProposals }];

/** 15 s: a proposal closes (and its outcome federates) at most this long after its time. */
export const SCHEDULER_INTERVAL_MS = 15_000;

export class Scheduler {
  readonly #ctx: AppContext;
  readonly #jobs: readonly ScheduledJob[];
  readonly #intervalMs: number;
  #timer: NodeJS.Timeout | undefined;
  #pass: Promise<void> | undefined;

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
    void this.runDue();
    this.#timer = setInterval(() => {
      if (!this.#pass) void this.runDue();
    }, this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the timer and waits for a pass in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#pass;
  }
}
