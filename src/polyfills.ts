/**
 * Runtime shims Fedify 2.x needs on Node 20 (it targets Node 22+). This module
 * must be imported before anything that imports Fedify: every entry point
 * (CLI, tests, benchmarks) does so first. On Node 22+ each shim is a no-op.
 */
import { Temporal } from "@js-temporal/polyfill";

const g = globalThis as Record<string, unknown>;

// Fedify reads navigator.userAgent when it signs with Ed25519 keys; Node 20 has
// no global navigator, and the queue crashes without it.
if (typeof g.navigator === "undefined") {
  Object.defineProperty(globalThis, "navigator", {
    value: { userAgent: `Node.js/${process.versions.node}` },
    configurable: true,
    writable: true,
  });
}

// createFederationBuilder().build() uses Iterator.from (ES2025, Node 22+).
const iteratorPrototype = Object.getPrototypeOf(Object.getPrototypeOf([][Symbol.iterator]())) as object;

function iteratorFrom(source: Iterable<unknown> | Iterator<unknown>): Iterator<unknown> {
  const iterable = source as Iterable<unknown>;
  const inner: Iterator<unknown> =
    typeof iterable[Symbol.iterator] === "function" ? iterable[Symbol.iterator]() : (source as Iterator<unknown>);
  // Wrap so the result inherits %IteratorPrototype% (and its helpers, if any).
  const wrapped = Object.create(iteratorPrototype) as Iterator<unknown>;
  wrapped.next = (...args: [] | [unknown]) => inner.next(...args);
  if (inner.return) wrapped.return = (value?: unknown) => inner.return!(value);
  return wrapped;
}

/**
 * Gives the global Iterator a `from`. Exported because jsonld's bundled
 * core-js replaces the global Iterator (without `from`) when Fedify loads:
 * federation/federation.ts calls this again once Fedify is imported.
 */
export function installIteratorFrom(): void {
  let ctor = g.Iterator as { from?: unknown; prototype?: object } | undefined;
  if (typeof ctor?.from === "function") return;
  if (ctor === undefined) {
    const fallback = function Iterator() {} as unknown as { prototype: object };
    fallback.prototype = iteratorPrototype;
    Object.defineProperty(globalThis, "Iterator", { value: fallback, configurable: true, writable: true });
    ctor = fallback;
  }
  Object.defineProperty(ctor, "from", { value: iteratorFrom, configurable: true, writable: true });
}

installIteratorFrom();

// Fedify uses the Temporal global for durations and instants.
if (typeof g.Temporal === "undefined") {
  Object.defineProperty(globalThis, "Temporal", { value: Temporal, configurable: true, writable: true });
}

