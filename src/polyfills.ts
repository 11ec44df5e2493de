/**
 * Runtime shims Fedify 2.x needs on Node 20 (it targets Node 22+). On Node 22
 * and later this module installs nothing. Code that loads Fedify imports it
 * first (the CLI's `serve`, federation/federation.ts, tests, benchmarks).
 *
 * Temporal is not here: no Node version has it yet, and Fedify imports it
 * from @js-temporal/polyfill itself, so our code imports it from there too
 * (the same classes Fedify checks against) rather than from a global.
 */

const g = globalThis as Record<string, unknown>;

/** True on the Node versions these shims are for. */
export const SHIMS_NEEDED = Number(process.versions.node.split(".")[0]) < 22;

/** The shims this process installed, for the test that checks them per Node version. */
export const installedShims = new Set<"navigator" | "Iterator.from">();

// Fedify reads navigator.userAgent when it signs with Ed25519 keys; Node 20 has
// no global navigator, and the queue crashes without it.
if (SHIMS_NEEDED && typeof g.navigator === "undefined") {
  Object.defineProperty(globalThis, "navigator", {
    value: { userAgent: `Node.js/${process.versions.node}` },
    configurable: true,
    writable: true,
  });
  installedShims.add("navigator");
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
 * Gives the global Iterator a `from` on Node 20. Exported because jsonld's
 * bundled core-js replaces the global Iterator (without `from`) when Fedify
 * loads there: federation/federation.ts calls this again once Fedify is
 * imported.
 */
export function installIteratorFrom(): void {
  if (!SHIMS_NEEDED) return;
  let ctor = g.Iterator as { from?: unknown; prototype?: object } | undefined;
  if (typeof ctor?.from === "function") return;
  if (ctor === undefined) {
    const fallback = function Iterator() {} as unknown as { prototype: object };
    fallback.prototype = iteratorPrototype;
    Object.defineProperty(globalThis, "Iterator", { value: fallback, configurable: true, writable: true });
    ctor = fallback;
  }
  Object.defineProperty(ctor, "from", { value: iteratorFrom, configurable: true, writable: true });
  installedShims.add("Iterator.from");
}

installIteratorFrom();
