/**
 * Temporal for our federation code: the very classes Fedify uses (it imports
 * @js-temporal/polyfill itself), typed as the standard Temporal its type
 * declarations expect. No Node version ships Temporal yet, and a global one
 * would be a polyfill on every version; importing it keeps the process clean.
 */
import { Temporal as polyfill } from "@js-temporal/polyfill";

export const Temporal = polyfill as unknown as typeof globalThis.Temporal;

// Type positions (`Temporal.Duration`) resolve here; the value above is the same classes.
export declare namespace Temporal {
  type Duration = globalThis.Temporal.Duration;
  type Instant = globalThis.Temporal.Instant;
}
