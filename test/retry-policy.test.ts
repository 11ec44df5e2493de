import { Temporal } from "../federation/temporal.ts";
import { describe, expect, it } from "vitest";
import { DEFAULT_DELIVERY_RETRY, createDeliveryRetryPolicy } from "../federation/retry-policy.ts";

const HOUR = 3_600_000;

/** Walks the policy like Fedify does: attempt after attempt until it gives up. */
function schedule(random: () => number): number[] {
  const policy = createDeliveryRetryPolicy(DEFAULT_DELIVERY_RETRY, random);
  const delays: number[] = [];
  let elapsed = 0;
  for (let attempts = 1; attempts < 1000; attempts++) {
    const delay = policy({ attempts, elapsedTime: Temporal.Duration.from({ milliseconds: elapsed }) });
    if (delay === null) break;
    const ms = delay.total({ unit: "milliseconds" });
    delays.push(ms);
    elapsed += ms;
  }
  return delays;
}

describe("delivery retry policy", () => {
  it("keeps retrying for at least 48 hours, even with the shortest jitter", () => {
    for (const random of [() => 0, () => 0.5, () => 0.999]) {
      const delays = schedule(random);
      const total = delays.reduce((sum, d) => sum + d, 0);
      expect(total).toBeGreaterThanOrEqual(48 * HOUR);
      expect(total).toBeLessThan(80 * HOUR);
    }
  });

  it("backs off exponentially from seconds to a cap of hours", () => {
    const delays = schedule(() => 0.5);
    expect(delays[0]).toBe(5_000);
    expect(delays[1]).toBe(10_000);
    expect(delays[2]).toBe(20_000);
    expect(Math.max(...delays)).toBe(4 * HOUR);
  });

  it("spreads retries with jitter", () => {
    const low = schedule(() => 0)[3]!;
    const high = schedule(() => 0.999)[3]!;
    expect(low).toBeLessThan(40_000);
    expect(high).toBeGreaterThan(40_000);
  });
});
