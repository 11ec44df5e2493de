/**
 * Where use cases and scheduled jobs read the time. The server uses the
 * system clock; tests pass a clock they advance, so a proposal that closes
 * in three days closes when the test says so, not after a sleep.
 */
export interface Clock {
  now(): Date;
}

export const systemClock: Clock = { now: () => new Date() };

/** A clock that only moves when told to (tests, benchmarks, replaying history). */
export class ManualClock implements Clock {
  #ms: number;

  constructor(start: Date | number = Date.now()) {
    this.#ms = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.#ms);
  }

  advance(ms: number): Date {
    if (!(ms >= 0)) throw new RangeError("a clock only moves forward");
    this.#ms += ms;
    return this.now();
  }

  advanceHours(hours: number): Date {
    return this.advance(hours * 3_600_000);
  }

  set(to: Date): void {
    if (to.getTime() < this.#ms) throw new RangeError("a clock only moves forward");
    this.#ms = to.getTime();
  }
}
