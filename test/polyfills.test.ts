import { spawnSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

const major = Number(process.versions.node.split(".")[0]);

/** What a fresh process on this Node has before and after loading the built shims. */
function shimsInFreshProcess(): { before: Record<string, string>; after: Record<string, string>; installed: string[] } {
  const probe = `
    const globals = () => ({ navigator: typeof globalThis.navigator, iteratorFrom: typeof globalThis.Iterator?.from, temporal: typeof globalThis.Temporal });
    const before = globals();
    const { installedShims } = await import("./dist/src/polyfills.js");
    console.log(JSON.stringify({ before, after: globals(), installed: [...installedShims] }));`;
  const result = spawnSync(process.execPath, ["--input-type=module", "-e", probe], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(result.stderr);
  return JSON.parse(result.stdout) as ReturnType<typeof shimsInFreshProcess>;
}

describe("runtime shims", () => {
  it("keeps the native JSON.stringify after the server is imported", async () => {
    await import("../src/instance.ts");
    // jsonld's bundled core-js replaces JSON.stringify with a slow polyfill on
    // Node 20 unless the process runs with --harmony-json-parse-with-source.
    expect(Function.prototype.toString.call(JSON.stringify)).toContain("[native code]");
    const rawJson = (JSON as unknown as { rawJSON?: unknown }).rawJSON;
    expect(typeof rawJson).toBe("function");
  });

  it("provides what Fedify expects of Node 22, natively or shimmed", () => {
    expect(typeof navigator.userAgent).toBe("string");
    const it = (globalThis as unknown as { Iterator: { from(x: Iterable<number>): Iterator<number> } }).Iterator.from([1, 2]);
    expect(it.next()).toEqual({ value: 1, done: false });
  });

  it.runIf(major < 22)("installs navigator and Iterator.from on Node 20, and no global Temporal", () => {
    const { before, after, installed } = shimsInFreshProcess();
    expect(before).toEqual({ navigator: "undefined", iteratorFrom: "undefined", temporal: "undefined" });
    expect(installed.sort()).toEqual(["Iterator.from", "navigator"]);
    expect(after).toEqual({ navigator: "object", iteratorFrom: "function", temporal: "undefined" });
  });

  it.runIf(major >= 22)("installs nothing on Node 22 and later", () => {
    const { before, after, installed } = shimsInFreshProcess();
    expect(installed).toEqual([]);
    expect(after).toEqual(before);
    expect(before).toMatchObject({ navigator: "object", iteratorFrom: "function" });
  });
});
