import { describe, expect, it } from "vitest";

describe("runtime shims", () => {
  it("keeps the native JSON.stringify after the server is imported", async () => {
    await import("../src/instance.ts");
    // jsonld's bundled core-js replaces JSON.stringify with a slow polyfill on
    // Node 20 unless the process runs with --harmony-json-parse-with-source.
    expect(Function.prototype.toString.call(JSON.stringify)).toContain("[native code]");
    const rawJson = (JSON as unknown as { rawJSON?: unknown }).rawJSON;
    expect(typeof rawJson).toBe("function");
  });

  it("provides what Fedify expects of Node 22", () => {
    expect(typeof (globalThis as { Temporal?: unknown }).Temporal).toBe("object");
    expect(typeof navigator.userAgent).toBe("string");
    const it = (globalThis as unknown as { Iterator: { from(x: Iterable<number>): Iterator<number> } }).Iterator.from([1, 2]);
    expect(it.next()).toEqual({ value: 1, done: false });
  });
});
