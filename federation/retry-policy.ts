/**
 * How long we keep trying to deliver an activity to a server that is down.
 * Fedify's default gives up after about half an hour; Mastodon keeps trying
 * for days, and a community's instance may well be offline over a weekend.
 * We retry with exponential backoff (5 s doubling up to every 4 hours), with
 * jitter so that a recovering server is not hit by every sender at once, and
 * give up once three days have passed since the first attempt.
 */
import { Temporal } from "./temporal.ts";
import type { RetryPolicy } from "@fedify/fedify";

export interface DeliveryRetryOptions {
  initialDelayMs: number;
  maxDelayMs: number;
  giveUpAfterMs: number;
  /** Fraction of the delay added or removed at random (0.2 = ±20 %). */
  jitter: number;
}

export const DEFAULT_DELIVERY_RETRY: DeliveryRetryOptions = {
  initialDelayMs: 5_000,
  maxDelayMs: 4 * 60 * 60 * 1000,
  giveUpAfterMs: 72 * 60 * 60 * 1000,
  jitter: 0.2,
};

export function createDeliveryRetryPolicy(
  options: DeliveryRetryOptions = DEFAULT_DELIVERY_RETRY,
  random: () => number = Math.random,
): RetryPolicy {
  return ({ attempts, elapsedTime }) => {
    const elapsedMs = elapsedTime.total({ unit: "milliseconds" });
    if (elapsedMs >= options.giveUpAfterMs) return null;
    const base = Math.min(options.initialDelayMs * 2 ** Math.max(0, attempts - 1), options.maxDelayMs);
    const jittered = base * (1 + options.jitter * (2 * random() - 1));
    return Temporal.Duration.from({ milliseconds: Math.round(jittered) });
  };
}
