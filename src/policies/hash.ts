/**
 * The content hash of a policy: a fingerprint of its normative content
 * (src/policies/content.ts) that anyone can recompute without Fedalign.
 *
 * Definition:
 *
 *     contentHash = "sha256:" + lowercase-hex( SHA-256( UTF-8( JCS(content) ) ) )
 *
 * where JCS is the JSON Canonicalization Scheme (RFC 8785: object keys sorted
 * by UTF-16 code units, no insignificant whitespace, minimal string escapes)
 * and `content` is the normative content after schema parsing, i.e. with every
 * default filled in (`summary: ""`, `contexts: []`, a clause's `rationale: ""`,
 * `context: {}`, `examples: []`, `tags: []` and so on) and strings trimmed or
 * canonicalised as the schema does. That is exactly the `normativeContent`
 * object of a published version document, so a reader can check a version by
 * hashing that object as it arrives:
 *
 *     jq .normativeContent version.json | npx canonicalize | sha256sum
 *
 * which prints the 64 hex digits that follow "sha256:" (`canonicalize` is
 * the npm package by RFC 8785's co-authors). Policy content holds only
 * strings, arrays, objects with ASCII keys and null, never numbers, so
 * Python's sorted, compact, non-ASCII-preserving JSON is byte-identical to JCS
 * for it and works too:
 *
 *     jq .normativeContent version.json | python3 -c 'import sys,json,hashlib;print("sha256:"+hashlib.sha256(json.dumps(json.load(sys.stdin),sort_keys=True,separators=(",",":"),ensure_ascii=False).encode()).hexdigest())'
 *
 * Do not use `jq -cS` as the canonicaliser: jq (1.6 at least) escapes U+007F,
 * which JCS does not.
 */
import { createHash } from "node:crypto";
import canonicalizeImport from "canonicalize";
import type { PolicyContent } from "./content.ts";

// The package is CommonJS typed as `export default`: Node hands an ES import the
// function itself, while TypeScript (NodeNext) types it as the module object.
const canonicalize = ((canonicalizeImport as unknown as { default?: unknown }).default ?? canonicalizeImport) as (
  input: unknown,
) => string | undefined;

const HASH_PATTERN = /^sha256:[0-9a-f]{64}$/;

/**
 * RFC 8785 canonical JSON. Throws on values JSON cannot represent (NaN,
 * Infinity, a bare undefined), because a hash or signature over "whatever
 * came out" would not be reproducible elsewhere.
 */
export function canonicalJson(value: unknown): string {
  const json = canonicalize(value);
  if (json === undefined) throw new TypeError("Value has no JSON representation.");
  return json;
}

/** The content hash of parsed normative content (see the module comment for the definition). */
export function contentHash(content: PolicyContent): string {
  const digest = createHash("sha256").update(canonicalJson(content), "utf8").digest("hex");
  return `sha256:${digest}`;
}

/**
 * Whether `content` has the hash `expected`. Malformed expectations are simply
 * false, and the comparison is case-sensitive because the format is lowercase.
 */
export function verifyContentHash(content: PolicyContent, expected: string): boolean {
  if (!HASH_PATTERN.test(expected)) return false;
  return contentHash(content) === expected;
}
