/**
 * Offline verification of an alignment bundle written by writeBundle
 * (./bundle.ts). Every check is reported, not only the first failure, and
 * each failed check names the file (and, for proofs, the key) involved.
 *
 * Checks, in report order (`what`):
 *
 * - "manifest": manifest.json exists, parses and has the expected shape
 *   (formatVersion 2, files, sources). If not, verification stops there.
 *   Bundles of format 1 carried derived files nothing could re-derive; they
 *   fail with a request to pull or export again.
 * - "manifest proof": when the manifest carries a proof, it is verified with
 *   a pinned key (options.keys[verificationMethod]), else with
 *   options.fetchKey. A bundle can't vouch for its own exporter, so an
 *   embedded key is never used for the manifest. With no key available the
 *   check says "unverified (no key)" and passes, unless
 *   `requireManifestProof` is set; then a missing proof or missing key fails.
 * - "file": each listed file exists, is a regular file with a safe relative
 *   path, and has the listed size and SHA-256; "unlisted file": any other
 *   file in the directory fails.
 * - "source content hash" and "source proof": per source, contentHash of
 *   its normativeContent equals the document's, and its eddsa-jcs-2022 proof
 *   verifies with, in order of preference, a pinned key for its
 *   verificationMethod, the communityKey embedded in the manifest (only if
 *   its id is that verificationMethod), or options.fetchKey. A pinned key is
 *   used alone. An embedded key shows integrity, not who signed; pin keys
 *   (or fetch them from the communities) for authenticity.
 * - "preference pages": per preferences/<n>.jsonl, every page is of source
 *   n's policy's dataset, attributed to its community, its items match its
 *   contentHash, its proof verifies (keys as for sources), and the pages
 *   chain from the first (`?after=0`) through `next` to the last. A changed
 *   record, consent term or licence breaks its page.
 * - "derived": every other file is derived again from the signed sources and
 *   the manifest's composition inputs (./derive.ts) and must be byte for
 *   byte what the bundle holds; so must the manifest (all but its proof).
 *   An edited file fails here even when its hash was updated in the manifest.
 */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { lstat, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
import { canonicalJson, contentHash } from "../policies/hash.ts";
import { proofVerificationMethod, publicKeyFromMultibase, verifyDocument } from "../policies/proof.ts";
import type { PolicyContent } from "../policies/content.ts";
import { listFiles } from "./bundle.ts";
import {
  BUNDLE_FORMAT_VERSION,
  MANIFEST_FILE,
  datasetFile,
  deriveBundle,
  pageItemsHash,
  sourceFile,
  type BundleManifest,
  type BundleSink,
  type FileEntry,
  type LineSink,
} from "./derive.ts";

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
  if (manifest.formatVersion === 1) return "formatVersion 1: its derived files cannot be checked against signed sources; pull or export the bundle again";
  if (manifest.formatVersion !== BUNDLE_FORMAT_VERSION) return `unsupported formatVersion ${JSON.stringify(manifest.formatVersion)}; expected ${BUNDLE_FORMAT_VERSION}`;
  if (!isObject(manifest.files)) return "files is not an object";
  for (const [path, entry] of Object.entries(manifest.files)) {
    if (!isObject(entry) || typeof entry.sha256 !== "string" || !HEX64.test(entry.sha256) || !Number.isSafeInteger(entry.bytes) || (entry.bytes as number) < 0) {
      return `files[${JSON.stringify(path)}] is not {sha256: 64 lowercase hex digits, bytes: integer}`;
    }
  }
  if (!Array.isArray(manifest.sources)) return "sources is not an array";
  for (const [i, source] of manifest.sources.entries()) {
    if (!isObject(source) || typeof source.iri !== "string" || typeof source.policy !== "string" || typeof source.community !== "string") {
      return `sources[${i}] lacks iri, policy or community`;
    }
  }
  if (!isObject(manifest.createdFrom)) return "createdFrom is not an object";
  const from = manifest.createdFrom;
  if (!Array.isArray(from.sources) || !Array.isArray(from.contexts) || !Array.isArray(from.precedence) || !Array.isArray(from.annotations)) {
    return "createdFrom lacks sources, contexts, precedence or annotations";
  }
  if (from.systemPrompt !== "compact" && from.systemPrompt !== "full") return "createdFrom.systemPrompt is neither compact nor full";
  if (typeof from.keepFlawed !== "boolean") return "createdFrom.keepFlawed is not a boolean";
  if (!Array.isArray(manifest.datasets)) return "datasets is not an array";
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

  let manifest: BundleManifest;
  try {
    const parsed: unknown = JSON.parse(await readFile(join(root, MANIFEST_FILE), "utf8"));
    const problem = manifestShapeProblem(parsed);
    if (problem) {
      add({ what: "manifest", file: MANIFEST_FILE, ok: false, detail: problem });
      return report();
    }
    manifest = parsed as BundleManifest;
  } catch (error) {
    add({ what: "manifest", file: MANIFEST_FILE, ok: false, detail: `cannot read or parse: ${message(error)}` });
    return report();
  }
  add({ what: "manifest", file: MANIFEST_FILE, ok: true, detail: `parses, formatVersion ${BUNDLE_FORMAT_VERSION}` });
  await checkManifestProof(manifest, options, add);
  await checkListedFiles(root, manifest.files, add);

  const documents: Record<string, unknown>[] = [];
  for (const [i, entry] of manifest.sources.entries()) {
    const doc = await checkSource(root, i + 1, entry as unknown as Json, options, add);
    if (!doc) return report();
    documents.push(doc);
  }
  await checkDerived(root, manifest, documents, options, add);
  return report();
}

async function checkManifestProof(manifest: BundleManifest, options: VerifyBundleOptions, add: (check: VerifyCheck) => void): Promise<void> {
  if (manifest.proof === undefined) {
    add({ what: "manifest proof", file: MANIFEST_FILE, ok: !options.requireManifestProof, detail: "the manifest is not signed" });
    return;
  }
  const keyId = proofVerificationMethod(manifest);
  if (keyId === undefined) {
    add({ what: "manifest proof", file: MANIFEST_FILE, ok: false, detail: "proof names no verificationMethod" });
    return;
  }
  // Never the embedded community keys: the exporter's key must come from outside the bundle.
  const resolved = await resolveKey(keyId, options, undefined);
  if ("error" in resolved) {
    add({ what: "manifest proof", file: MANIFEST_FILE, ok: !options.requireManifestProof, detail: resolved.error });
    return;
  }
  const result = await verifyDocument(manifest, resolved.key);
  add({
    what: "manifest proof",
    file: MANIFEST_FILE,
    ok: result.ok,
    detail: result.ok ? `verified with ${resolved.from} key ${keyId}` : `${result.reason} (${resolved.from} key ${keyId})`,
  });
}

async function checkListedFiles(root: string, files: Record<string, FileEntry>, add: (check: VerifyCheck) => void): Promise<void> {
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
  let present: string[] = [];
  try {
    present = await listFiles(root);
  } catch (error) {
    add({ what: "unlisted file", ok: false, detail: `cannot list the directory: ${message(error)}` });
  }
  for (const path of present) {
    if (path !== MANIFEST_FILE && !Object.hasOwn(files, path)) add({ what: "unlisted file", file: path, ok: false, detail: "present but not listed in the manifest" });
  }
}

/** Checks source n's hash and proof; returns its document, or undefined when it cannot be read at all. */
async function checkSource(root: string, n: number, entry: Json, options: VerifyBundleOptions, add: (check: VerifyCheck) => void): Promise<Record<string, unknown> | undefined> {
  const file = sourceFile(n);
  const iri = String(entry.iri);
  let doc: unknown;
  try {
    doc = JSON.parse(await readFile(join(root, file), "utf8"));
  } catch (error) {
    add({ what: "source", file, ok: false, detail: `source ${iri}: cannot read or parse: ${message(error)}` });
    return undefined;
  }
  if (!isObject(doc)) {
    add({ what: "source", file, ok: false, detail: `source ${iri}: not a JSON object` });
    return undefined;
  }
  let hash: string | undefined;
  try {
    hash = isObject(doc.normativeContent) ? contentHash(doc.normativeContent as unknown as PolicyContent) : undefined;
  } catch {
    hash = undefined;
  }
  const hashOk = hash !== undefined && hash === doc.contentHash;
  add({
    what: "source content hash",
    file,
    ok: hashOk,
    detail: hashOk ? `source ${iri}: ${hash}` : hash === undefined ? `source ${iri}: normativeContent is missing or not canonicalisable` : `source ${iri}: normativeContent hashes to ${hash}, the document says ${JSON.stringify(doc.contentHash)}`,
  });
  const keyId = proofVerificationMethod(doc);
  if (keyId === undefined) {
    add({ what: "source proof", file, ok: false, detail: `source ${iri}: no proof with a verificationMethod` });
    return doc;
  }
  const resolved = await resolveKey(keyId, options, entry.communityKey);
  if ("error" in resolved) {
    add({ what: "source proof", file, ok: false, detail: `source ${iri}: ${resolved.error}` });
    return doc;
  }
  const result = await verifyDocument(doc, resolved.key);
  add({
    what: "source proof",
    file,
    ok: result.ok,
    detail: result.ok ? `source ${iri}: verified with ${resolved.from} key ${keyId}` : `source ${iri}: ${result.reason} (${resolved.from} key ${keyId})`,
  });
  return doc;
}

/** Reads a file of signed pages, checking each; problems are collected, pages are yielded regardless (derivation then names the files). */
async function* readPages(
  root: string,
  n: number,
  manifest: BundleManifest,
  options: VerifyBundleOptions,
  problems: string[],
  counted: { pages: number },
): AsyncGenerator<Record<string, unknown>> {
  const source = manifest.sources[n - 1]!;
  const file = datasetFile(n);
  const partOf = `${source.policy}/preferences`;
  const keys = new Map<string, CryptoKey | string>();
  let expectedId: string | undefined = `${partOf}?after=0`;
  const problem = (text: string) => {
    problems.push(text);
  };
  let lines: AsyncIterable<string>;
  try {
    await lstat(join(root, file));
    lines = createInterface({ input: createReadStream(join(root, file)), crlfDelay: Infinity });
  } catch {
    problem("missing");
    return;
  }
  for await (const text of lines) {
    counted.pages++;
    const at = `page ${counted.pages}`;
    let page: unknown;
    try {
      page = JSON.parse(text);
    } catch (error) {
      problem(`${at}: not JSON (${message(error)})`);
      continue;
    }
    if (!isObject(page)) {
      problem(`${at}: not a JSON object`);
      continue;
    }
    if (expectedId === undefined) problem(`${at}: comes after the last page (the page before has no next)`);
    else if (page.id !== expectedId) problem(`${at}: id ${JSON.stringify(page.id)}, expected ${expectedId}`);
    expectedId = typeof page.next === "string" ? page.next : undefined;
    if (page.partOf !== partOf) problem(`${at}: not part of ${partOf}`);
    if (page.attributedTo !== source.community) problem(`${at}: attributed to ${JSON.stringify(page.attributedTo)}, not ${source.community}`);
    const items = Array.isArray(page.orderedItems) ? page.orderedItems : [];
    if (items.some((item) => !isObject(item) || typeof item.id !== "string" || !item.id.startsWith(`${partOf}/`))) problem(`${at}: an item is not a record of ${partOf}`);
    let itemsHash: string | undefined;
    try {
      itemsHash = pageItemsHash(items);
    } catch {
      itemsHash = undefined;
    }
    if (itemsHash !== page.contentHash) problem(`${at}: its records do not match its contentHash (a record, consent term or licence was changed)`);
    const keyId = proofVerificationMethod(page);
    if (keyId === undefined) problem(`${at}: no proof`);
    else {
      let key = keys.get(keyId);
      if (key === undefined) {
        const resolved = await resolveKey(keyId, options, source.communityKey);
        if ("error" in resolved) problem(`${at}: ${resolved.error}`);
        else keys.set(keyId, (key = resolved.key));
      }
      if (key !== undefined) {
        const result = await verifyDocument(page, await toKey(key));
        if (!result.ok) problem(`${at}: proof does not verify (${result.reason})`);
      }
    }
    yield page;
  }
  if (expectedId !== undefined && counted.pages > 0) problem(`pages end before ${expectedId}: the dataset is incomplete`);
}

/** A sink that hashes what derivation produces; `entries` keeps the derived hashes. */
function hashingSink(): BundleSink & { entries: Map<string, FileEntry> } {
  const entries = new Map<string, FileEntry>();
  return {
    entries,
    async text(path, content) {
      const entry = { sha256: createHash("sha256").update(content, "utf8").digest("hex"), bytes: Buffer.byteLength(content, "utf8") };
      entries.set(path, entry);
      return entry;
    },
    async lines(path): Promise<LineSink> {
      const hash = createHash("sha256");
      let bytes = 0;
      return {
        async write(line) {
          hash.update(line, "utf8");
          bytes += Buffer.byteLength(line, "utf8");
        },
        async close() {
          const entry = { sha256: hash.digest("hex"), bytes };
          entries.set(path, entry);
          return entry;
        },
      };
    },
  };
}

async function checkDerived(root: string, manifest: BundleManifest, documents: Record<string, unknown>[], options: VerifyBundleOptions, add: (check: VerifyCheck) => void): Promise<void> {
  const sink = hashingSink();
  const pageProblems = new Map<number, { problems: string[]; counted: { pages: number } }>();
  const from = manifest.createdFrom;
  let derived: BundleManifest;
  try {
    derived = await deriveBundle(
      {
        ...(manifest.title === undefined ? {} : { title: manifest.title }),
        spec: { sources: from.sources, contexts: from.contexts, precedence: from.precedence, systemPrompt: from.systemPrompt, keepFlawed: from.keepFlawed, annotations: from.annotations },
        sources: documents.map((document, i) => ({ document, communityKey: manifest.sources[i]!.communityKey ?? null })),
        withPreferences: manifest.datasets.length > 0,
        pages: (n) => {
          const state = { problems: [] as string[], counted: { pages: 0 } };
          pageProblems.set(n, state);
          return readPages(root, n, manifest, options, state.problems, state.counted);
        },
        decisions: manifest.decisions,
        signed: manifest.proof !== undefined,
      },
      sink,
    );
  } catch (error) {
    add({ what: "derived", ok: false, detail: `cannot derive the bundle from its sources: ${message(error)}` });
    return;
  }
  for (const [n, { problems, counted }] of pageProblems) {
    const shown = problems.slice(0, MAX_LINE_ERRORS);
    if (problems.length > shown.length) shown.push(`${problems.length - shown.length} more problems`);
    add({ what: "preference pages", file: datasetFile(n), ok: problems.length === 0, detail: problems.length === 0 ? `${counted.pages} pages signed by ${manifest.sources[n - 1]!.community}, complete` : shown.join("; ") });
  }
  for (const [path, entry] of sink.entries) {
    let actual: FileEntry | undefined;
    try {
      actual = await hashFile(join(root, path));
    } catch {
      actual = undefined;
    }
    const ok = actual !== undefined && actual.sha256 === entry.sha256 && actual.bytes === entry.bytes;
    add({
      what: "derived",
      file: path,
      ok,
      detail: ok
        ? "matches what the signed sources give"
        : actual === undefined
          ? "missing"
          : `differs from what the signed sources and composition inputs give (sha256 ${actual.sha256}, expected ${entry.sha256})`,
    });
  }
  const { proof: _proof, ...claimed } = manifest;
  const differs = Object.keys({ ...claimed, ...derived }).filter((key) => !sameJson((claimed as Json)[key], (derived as unknown as Json)[key]));
  add({
    what: "derived",
    file: MANIFEST_FILE,
    ok: differs.length === 0,
    detail: differs.length === 0 ? "every claim follows from the sources" : `${differs.join(", ")} differ${differs.length === 1 ? "s" : ""} from what the sources give`,
  });
}
