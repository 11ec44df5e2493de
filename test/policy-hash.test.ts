import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import { policyContentSchema, type PolicyContent, type PolicyContentInput } from "../src/policies/content.ts";
import { canonicalJson, contentHash, verifyContentHash } from "../src/policies/hash.ts";

const input: PolicyContentInput = {
  title: "Kind replies",
  licence: "CC-BY-4.0",
  sections: [{ id: "tone", title: "Tone", parent: null }],
  clauses: [
    {
      id: "be-kind",
      section: "tone",
      authority: "guideline",
      text: "Be kind — even when \"the user\" is not.\nTabs\tand ünïcödé 日本語 😀 stay as they are.",
      context: { locale: ["en-gb", "sw"] },
      examples: [
        {
          prompt: [{ role: "user", content: "You are useless." }],
          responses: [
            { content: "Sorry that was frustrating; let's try again.", label: "good" },
            { content: "No, you are.", label: "bad", note: "mirrors hostility" },
          ],
        },
      ],
    },
    { id: "no-lies", authority: "root", text: "Do not state falsehoods.", tags: ["honesty"] },
  ],
};

function parse(value: unknown): PolicyContent {
  return policyContentSchema.parse(value);
}

const content = parse(input);

function python(json: string): string | undefined {
  const script =
    'import sys,json,hashlib;print("sha256:"+hashlib.sha256(json.dumps(json.load(sys.stdin),sort_keys=True,separators=(",",":"),ensure_ascii=False).encode()).hexdigest())';
  const run = spawnSync("python3", ["-c", script], { input: json, encoding: "utf8" });
  return run.status === 0 ? run.stdout.trim() : undefined;
}

describe("canonicalJson", () => {
  it("sorts keys, drops whitespace and keeps non-ASCII as is (RFC 8785)", () => {
    expect(canonicalJson({ b: [1, "é", null], a: { d: true, c: 1e21 }, "€": 0.1 })).toBe(
      '{"a":{"c":1e+21,"d":true},"b":[1,"é",null],"€":0.1}',
    );
    expect(canonicalJson("\u0001\n\"")).toBe('"\\u0001\\n\\""');
  });

  it("refuses values JSON cannot carry", () => {
    expect(() => canonicalJson(undefined)).toThrow(TypeError);
    expect(() => canonicalJson(Number.NaN)).toThrow();
  });
});

describe("contentHash", () => {
  it("is sha256: and 64 lowercase hex digits, stable for this content", () => {
    // A golden value: if it changes, every published hash changes with it.
    expect(contentHash(content)).toBe("sha256:3fde40d818259fb97398696dc2239e4f37249c99d60de5cc7bf66da62e20eb01");
  });

  it("is SHA-256 of the canonical JSON of the parsed content", () => {
    const expected = createHash("sha256").update(Buffer.from(canonicalJson(content), "utf8")).digest("hex");
    expect(contentHash(content)).toBe(`sha256:${expected}`);
  });

  it("covers defaults: omitting a default and spelling it out give the same hash", () => {
    const explicit = parse({
      ...input,
      summary: "",
      contexts: [],
      clauses: input.clauses!.map((clause) => ({ title: "", section: null, rationale: "", context: {}, examples: [], tags: [], ...clause })),
    });
    expect(contentHash(explicit)).toBe(contentHash(content));
    expect(canonicalJson(content)).toContain('"rationale":""');
  });

  it("ignores key order and whitespace of the source, not array order", () => {
    const reordered = parse(reverseKeys(input));
    expect(contentHash(reordered)).toBe(contentHash(content));
    const swapped = parse({ ...input, clauses: [...input.clauses!].reverse() });
    expect(contentHash(swapped)).not.toBe(contentHash(content));
  });

  it("changes with any normative change", () => {
    const edited = structuredClone(content);
    edited.clauses[1]!.tags.push("truth");
    expect(contentHash(edited)).not.toBe(contentHash(content));
  });

  it("is unchanged by parsing again, so receivers can hash what they parse", () => {
    expect(contentHash(parse(JSON.parse(JSON.stringify(content))))).toBe(contentHash(content));
  });

  it("matches the recipes in the module comment (Python, the canonicalize CLI)", () => {
    const published = JSON.stringify(content, null, 2);
    const fromPython = python(published);
    if (fromPython !== undefined) expect(fromPython).toBe(contentHash(content));
    const cli = createRequire(import.meta.url).resolve("canonicalize/bin/canonicalize.js");
    const canonical = spawnSync(process.execPath, [cli], { input: published, encoding: "utf8" });
    expect(canonical.status).toBe(0);
    expect(`sha256:${createHash("sha256").update(canonical.stdout, "utf8").digest("hex")}`).toBe(contentHash(content));
  });
});

describe("verifyContentHash", () => {
  it("accepts the right hash and nothing else", () => {
    const hash = contentHash(content);
    expect(verifyContentHash(content, hash)).toBe(true);
    expect(verifyContentHash(content, hash.toUpperCase())).toBe(false);
    expect(verifyContentHash(content, hash.replace("sha256:", "sha512:"))).toBe(false);
    expect(verifyContentHash(content, `sha256:${"0".repeat(64)}`)).toBe(false);
    expect(verifyContentHash(content, "")).toBe(false);
    expect(verifyContentHash({ ...content, title: "Other" }, hash)).toBe(false);
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([key, item]) => [key, reverseKeys(item)]));
}
