/**
 * How deliveries to other servers are spread (README, "Delivery to many
 * servers"). One activity to many followers is one fan-out message, which
 * Fedify turns into one delivery per distinct inbox (a server's shared inbox
 * when it has one). Deliveries then run `concurrency` at a time per worker
 * process, at most `perHost` at a time to one host over all workers, and a
 * host that keeps failing is skipped for a while by Fedify's circuit breaker.
 * (No Fedify import here: the configuration is read before Fedify loads.)
 */
export interface DeliveryOptions {
  /** Deliveries in flight per worker process. */
  concurrency: number;
  /** Deliveries in flight to one host, over all worker processes. */
  perHost: number;
  /** Failed deliveries (refused, timed out, 5xx) to one host within 10 minutes that open its circuit. */
  circuitFailures: number;
  /** How long an open circuit holds a host's deliveries back (they wait, they are not dropped) before one probe is sent. */
  circuitCooldownMs: number;
  /**
   * How long a worker's claim on a queued message (a delivery, an incoming
   * activity) lasts; the worker renews it while it works, and when the worker
   * dies another takes the message after this long.
   */
  leaseMs: number;
}

export const DEFAULT_DELIVERY: DeliveryOptions = {
  concurrency: 16,
  perHost: 4,
  circuitFailures: 5,
  circuitCooldownMs: 30 * 60_000,
  leaseMs: 60_000,
};
