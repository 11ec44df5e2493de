/**
 * Offline verification of an alignment bundle written by writeBundle
 * (./bundle.ts). Every check is reported, not only the first failure, and
 * each failed check names the file (and, for proofs, the key) involved.
 *
 * Checks, in report order (`what`):
 *
 * - "manifest": manifest.json exists, parses and has the expected shape
 *   (formatVersion 1, files, sources). If not, verification stops there.
 * - "manifest proof": when the manifest carries a proof, it is verified with
 *   a pinned key (options.keys[verificationMethod]), else with
 *   options.fetchKey. A bundle can't vouch for its own exporter, so an
 *   embedded key is never used for the manifest. With no key available the
 *   check says "unverified (no key)" and passes, unless
 *   `requireManifestProof` is set; then a missing proof or missing key fails.
 * - "file": each listed file exists, is a regular file with a safe relative
 *   path, and has the listed size and SHA-256.
 * - "unlisted file": any file in the directory that the manifest does not
 *   list (manifest.json itself excepted) fails.
 * - "source": per manifest source, the stored document (sources/<n>.json)
 *   parses and agrees with the manifest entry: id = iri, policy,
 *   attributedTo = community, licence, and the same proof.
 * - "source content hash": contentHash(normativeContent) equals the
 *   document's contentHash and the manifest's.
 * - "source proof": the document's eddsa-jcs-2022 proof verifies with, in
 *   order of preference, a pinned key for its verificationMethod, the
 *   communityKey embedded in the manifest (only if its id is that
 *   verificationMethod), or options.fetchKey. A pinned key is used alone: if
 *   it does not verify, the check fails even when the embedded key would
 *   pass. An embedded key shows integrity, not who signed; pin keys (or
 *   fetch them from the communities) for authenticity.
 * - "jsonl": each line of preferences.trl.jsonl is {prompt, chosen,
 *   rejected} and each line of preferences.openai.jsonl is {input:
 *   {messages}, preferred_output, non_preferred_output}, every one a list of
 *   {role, content} messages.
 * - "counts": both JSONL files have counts.preferencePairs lines, and
 *   counts.sources matches; "licences": manifest licences are exactly the
 *   sources' licences.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { canonicalJson, contentHash } from "../policies/hash.ts";
import { proofVerificationMethod, publicKeyFromMultibase, verifyDocument } from "../policies/proof.ts";
import type { PolicyContent } from "../policies/content.ts";
import { BUNDLE_FORMAT_VERSION, MANIFEST_FILE, OPENAI_FILE, TRL_FILE, listFiles } from "./bundle.ts";

export interface VerifyCheck {
  what: string;
  file?: string;
  ok: boolean;
  detail: string;
}

export interface VerifyReport {
  ok: boolean;
  checks: VerifyCheck[];
}

export interface VerifyBundleOptions {
  /** Pinned public keys by key IRI (verificationMethod): a CryptoKey or a Multikey publicKeyMultibase. They override embedded keys. */
  keys?: Record<string, CryptoKey | string>;
  /** Online fallback when neither a pinned nor an embedded key is there. Return null when unknown. */
  fetchKey?: (keyId: string) => Promise<CryptoKey | null>;
  /** Fail unless the manifest carries a proof that verifies with a pinned or fetched key. */
  requireManifestProof?: boolean;
}

type Json = Record<string, unknown>;

const SAFE_PATH = /^[A-Za-z0-9_-][A-Za-z0-9._-]*(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)*$/;
const HEX64 = /^[0-9a-f]{64}$/;
const MAX_LINE_ERRORS = 3;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function safePath(path: string): boolean {
  return SAFE_PATH.test(path) && !path.split("/").some((part) => part === "." || part === "..");
}

function sameJson(a: unknown, b: unknown): boolean {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
}

async function hashFile(path: string): Promise<{ sha256: string; bytes: number }> {
  const hash = createHash("sha256");
  let bytes = 0;
  for await (const chunk of createReadStream(path)) {
    hash.update(chunk as Buffer);
    bytes += (chunk as Buffer).length;
  }
  return { sha256: hash.digest("hex"), bytes };
}

type KeySource = "pinned" | "embedded" | "fetched";

async function toKey(value: CryptoKey | string): Promise<CryptoKey> {
  return typeof value === "string" ? publicKeyFromMultibase(value) : value;
}

/** The key to verify with, where it came from, or why there is none. */
async function resolveKey(
  keyId: string,
  options: VerifyBundleOptions,
  embedded: unknown,
): Promise<{ key: CryptoKey; from: KeySource } | { error: string }> {
  try {
    const pinned = options.keys && Object.hasOwn(options.keys, keyId) ? options.keys[keyId] : undefined;
    if (pinned !== undefined) return { key: await toKey(pinned), from: "pinned" };
    if (isObject(embedded) && embedded.id === keyId && typeof embedded.publicKeyMultibase === "string") {
      return { key: await publicKeyFromMultibase(embedded.publicKeyMultibase), from: "embedded" };
    }
    if (options.fetchKey) {
      const fetched = await options.fetchKey(keyId);
      if (fetched) return { key: fetched, from: "fetched" };
    }
  } catch (error) {
    return { error: `key ${keyId} unusable: ${message(error)}` };
  }
  return { error: `unverified (no key): no pinned, embedded or fetched key for ${keyId}` };
}

function manifestShapeProblem(manifest: unknown): string | undefined {
  if (!isObject(manifest)) return "not a JSON object";
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) return `unsupported formatVersion ${JSON.stringify(manifest.formatVersion)}; expected ${BUNDLE_FORMAT_VERSION}`;
  if (!isObject(manifest.files)) return "files is not an object";
  for (const [path, entry] of Object.entries(manifest.files)) {
    if (!isObject(entry) || typeof entry.sha256 !== "string" || !HEX64.test(entry.sha256) || !Number.isSafeInteger(entry.bytes) || (entry.bytes as number) < 0) {
      return `files[${JSON.stringify(path)}] is not {sha256: 64 lowercase hex digits, bytes: integer}`;
    }
  }
  if (!Array.isArray(manifest.sources)) return "sources is not an array";
  for (const [i, source] of manifest.sources.entries()) {
    if (!isObject(source) || typeof source.iri !== "string" || typeof source.file !== "string" || typeof source.contentHash !== "string") {
      return `sources[${i}] lacks iri, file or contentHash`;
    }
  }
  return undefined;
}

/** Verifies the bundle in `dir`; see the module comment for what is checked. */
export async function verifyBundle(dir: string, options: VerifyBundleOptions = {}): Promise<VerifyReport> {
  const root = resolve(dir);
  const checks: VerifyCheck[] = [];
  const add = (check: VerifyCheck): void => {
    checks.push(check);
  };
  const report = (): VerifyReport => ({ ok: checks.length > 0 && checks.every((c) => c.ok), checks });

  // Manifest
  let manifest: Json;
  try {
    const parsed: unknown = JSON.parse(await readFile(join(root, MANIFEST_FILE), "utf8"));
    const problem = manifestShapeProblem(parsed);
    if (problem) {
      add({ what: "manifest", file: MANIFEST_FILE, ok: false, detail: problem });
      return report();
    }
    manifest = parsed as Json;
  } catch (error) {
    add({ what: "manifest", file: MANIFEST_FILE, ok: false, detail: `cannot read or parse: ${message(error)}` });
    return report();
  }
  add({ what: "manifest", file: MANIFEST_FILE, ok: true, detail: "parses, formatVersion 1" });
  const files = manifest.files as Record<string, { sha256: string; bytes: number }>;
  const sources = manifest.sources as Json[];

  // Manifest proof
  if (manifest.proof !== undefined) {
    const keyId = proofVerificationMethod(manifest);
    if (keyId === undefined) {
      add({ what: "manifest proof", file: MANIFEST_FILE, ok: false, detail: "proof names no verificationMethod" });
    } else {
      // Never the embedded community keys: the exporter's key must come from outside the bundle.
      const resolved = await resolveKey(keyId, options, undefined);
      if ("error" in resolved) {
        add({ what: "manifest proof", file: MANIFEST_FILE, ok: !options.requireManifestProof, detail: resolved.error });
      } else {
        const result = await verifyDocument(manifest, resolved.key);
        add({
          what: "manifest proof",
          file: MANIFEST_FILE,
          ok: result.ok,
          detail: result.ok ? `verified with ${resolved.from} key ${keyId}` : `${result.reason} (${resolved.from} key ${keyId})`,
        });
      }
    }
  } else {
    add({ what: "manifest proof", file: MANIFEST_FILE, ok: !options.requireManifestProof, detail: "the manifest is not signed" });
  }

  // Listed files
  for (const [path, entry] of Object.entries(files)) {
    if (!safePath(path) || path === MANIFEST_FILE) {
      add({ what: "file", file: path, ok: false, detail: "unsafe or reserved path in the manifest" });
      continue;
    }
    const full = join(root, path);
    try {
      const info = await lstat(full);
      if (!info.isFile()) {
        add({ what: "file", file: path, ok: false, detail: "not a regular file" });
        continue;
      }
      const actual = await hashFile(full);
      const problems: string[] = [];
      if (actual.bytes !== entry.bytes) problems.push(`size ${actual.bytes} bytes, manifest says ${entry.bytes}`);
      if (actual.sha256 !== entry.sha256) problems.push(`sha256 ${actual.sha256}, manifest says ${entry.sha256}`);
      add({ what: "file", file: path, ok: problems.length === 0, detail: problems.length === 0 ? `sha256 and size (${actual.bytes} bytes) match` : problems.join("; ") });
    } catch (error) {
      const missing = (error as NodeJS.ErrnoException).code === "ENOENT";
      add({ what: "file", file: path, ok: false, detail: missing ? "missing" : `cannot read: ${message(error)}` });
    }
  }

  // Unlisted files
  let present: string[] = [];
  try {
    present = await listFiles(root);
  } catch (error) {
    add({ what: "unlisted file", ok: false, detail: `cannot list the directory: ${message(error)}` });
  }
  for (const path of present) {
    if (path !== MANIFEST_FILE && !Object.hasOwn(files, path)) add({ what: "unlisted file", file: path, ok: false, detail: "present but not listed in the manifest" });
  }

  // Sources
  for (const entry of sources) {
    await checkSource(root, entry, files, options, add);
  }

  // JSONL files
  const lineCounts: Record<string, number> = {};
  for (const [file, shape] of [
    [TRL_FILE, trlProblem],
    [OPENAI_FILE, openAiProblem],
  ] as const) {
    if (!Object.hasOwn(files, file)) {
      add({ what: "jsonl", file, ok: false, detail: "not listed in the manifest" });
      continue;
    }
    const result = await checkJsonl(join(root, file), shape);
    if (result.lines !== undefined) lineCounts[file] = result.lines;
    add({ what: "jsonl", file, ok: result.errors.length === 0, detail: result.errors.length === 0 ? `${result.lines} lines in the expected shape` : result.errors.join("; ") });
  }

  // Counts and licences
  const counts = isObject(manifest.counts) ? manifest.counts : {};
  const countProblems: string[] = [];
  if (counts.sources !== sources.length) countProblems.push(`counts.sources is ${JSON.stringify(counts.sources)}, the manifest lists ${sources.length}`);
  for (const [file, lines] of Object.entries(lineCounts)) {
    if (counts.preferencePairs !== lines) countProblems.push(`${file} has ${lines} lines, counts.preferencePairs is ${JSON.stringify(counts.preferencePairs)}`);
  }
  add({ what: "counts", file: MANIFEST_FILE, ok: countProblems.length === 0, detail: countProblems.length === 0 ? "counts match the files" : countProblems.join("; ") });
  const expectedLicences = [...new Set(sources.map((s) => s.licence).filter((l): l is string => typeof l === "string"))].sort();
  const licencesOk = sameJson(manifest.licences, expectedLicences);
  add({
    what: "licences",
    file: MANIFEST_FILE,
    ok: licencesOk,
    detail: licencesOk ? "licences are the sources' licences" : `licences ${JSON.stringify(manifest.licences)} differ from the sources' ${JSON.stringify(expectedLicences)}`,
  });

  return report();
}

async function checkSource(
  root: string,
  entry: Json,
  files: Record<string, unknown>,
  options: VerifyBundleOptions,
  add: (check: VerifyCheck) => void,
): Promise<void> {
  const file = entry.file as string;
  const iri = entry.iri as string;
  if (!safePath(file) || !Object.hasOwn(files, file)) {
    add({ what: "source", file, ok: false, detail: `source ${iri}: its file is not listed in the manifest` });
    return;
  }
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(join(root, file), "utf8"));
  } catch (error) {
    add({ what: "source", file, ok: false, detail: `source ${iri}: cannot read or parse: ${message(error)}` });
    return;
  }
  if (!isObject(doc)) {
    add({ what: "source", file, ok: false, detail: `source ${iri}: not a JSON object` });
    return;
  }

  const mismatches: string[] = [];
  if (doc.id !== iri) mismatches.push(`id ${JSON.stringify(doc.id)} is not the manifest's iri`);
  if (doc.policy !== entry.policy) mismatches.push(`policy ${JSON.stringify(doc.policy)} differs from the manifest's ${JSON.stringify(entry.policy)}`);
  if (doc.attributedTo !== entry.community) mismatches.push(`attributedTo ${JSON.stringify(doc.attributedTo)} differs from the manifest's community ${JSON.stringify(entry.community)}`);
  if (doc.licence !== entry.licence) mismatches.push(`licence ${JSON.stringify(doc.licence)} differs from the manifest's ${JSON.stringify(entry.licence)}`);
  if (!sameJson(doc.proof, entry.proof)) mismatches.push("its proof differs from the manifest's");
  add({ what: "source", file, ok: mismatches.length === 0, detail: mismatches.length === 0 ? `source ${iri} agrees with the manifest` : `source ${iri}: ${mismatches.join("; ")}` });

  let hash: string | undefined;
  try {
    hash = isObject(doc.normativeContent) ? contentHash(doc.normativeContent as unknown as PolicyContent) : undefined;
  } catch {
    hash = undefined;
  }
  const hashProblems: string[] = [];
  if (hash === undefined) hashProblems.push("normativeContent is missing or not canonicalisable");
  else {
    if (hash !== doc.contentHash) hashProblems.push(`normativeContent hashes to ${hash}, the document says ${JSON.stringify(doc.contentHash)}`);
    if (hash !== entry.contentHash) hashProblems.push(`normativeContent hashes to ${hash}, the manifest says ${JSON.stringify(entry.contentHash)}`);
  }
  add({ what: "source content hash", file, ok: hashProblems.length === 0, detail: hashProblems.length === 0 ? `source ${iri}: ${hash}` : `source ${iri}: ${hashProblems.join("; ")}` });

  const keyId = proofVerificationMethod(doc);
  if (keyId === undefined) {
    add({ what: "source proof", file, ok: false, detail: `source ${iri}: no proof with a verificationMethod` });
    return;
  }
  const resolved = await resolveKey(keyId, options, entry.communityKey);
  if ("error" in resolved) {
    add({ what: "source proof", file, ok: false, detail: `source ${iri}: ${resolved.error}` });
    return;
  }
  const result = await verifyDocument(doc, resolved.key);
  add({
    what: "source proof",
    file,
    ok: result.ok,
    detail: result.ok ? `source ${iri}: verified with ${resolved.from} key ${keyId}` : `source ${iri}: ${result.reason} (${resolved.from} key ${keyId})`,
  });
}

function messagesProblem(value: unknown, name: string): string | undefined {
  if (!Array.isArray(value) || value.length === 0) return `${name} is not a non-empty list of messages`;
  for (const [i, m] of value.entries()) {
    if (!isObject(m) || typeof m.role !== "string" || typeof m.content !== "string") return `${name}[${i}] is not {role, content}`;
  }
  return undefined;
}

function trlProblem(line: Json): string | undefined {
  return messagesProblem(line.prompt, "prompt") ?? messagesProblem(line.chosen, "chosen") ?? messagesProblem(line.rejected, "rejected");
}

function openAiProblem(line: Json): string | undefined {
  if (!isObject(line.input)) return "input is not an object";
  return (
    messagesProblem(line.input.messages, "input.messages") ??
    messagesProblem(line.preferred_output, "preferred_output") ??
    messagesProblem(line.non_preferred_output, "non_preferred_output")
  );
}

async function checkJsonl(path: string, problem: (line: Json) => string | undefined): Promise<{ lines?: number; errors: string[] }> {
  const errors: string[] = [];
  let count = 0;
  let failures = 0;
  try {
    const lines = createInterface({ input: createReadStream(path), crlfDelay: Infinity });
    for await (const text of lines) {
      count++;
      let found: string | undefined;
      try {
        const value: unknown = JSON.parse(text);
        found = isObject(value) ? problem(value) : "not a JSON object";
      } catch (error) {
        found = `not JSON (${message(error)})`;
      }
      if (found !== undefined) {
        failures++;
        if (errors.length < MAX_LINE_ERRORS) errors.push(`line ${count}: ${found}`);
      }
    }
  } catch (error) {
    return { errors: [`cannot read: ${message(error)}`] };
  }
  if (failures > errors.length) errors.push(`${failures - errors.length} more bad lines`);
  return { lines: count, errors };
}
