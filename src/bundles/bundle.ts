/**
 * Alignment bundles: a directory (and optionally a .tar.gz of it) that a model
 * operator can take offline. It holds the composed policy in the forms a
 * training or deployment pipeline wants, the preference data as TRL and OpenAI
 * JSONL, every source version document exactly as its community signed it,
 * a Hugging Face style dataset card, and `manifest.json`, which lists every
 * other file with its SHA-256 and size and, when a signer is given, carries
 * an eddsa-jcs-2022 proof of its own (src/policies/proof.ts).
 *
 * Layout (all paths relative to the bundle directory):
 *
 *     manifest.json              canonical JSON (RFC 8785) + "\n"; not listed in itself
 *     README.md                  dataset card (YAML front matter + prose)
 *     policy.md                  as given
 *     system-prompt.txt          as given
 *     principles.json            pretty JSON (2 spaces), keys sorted recursively, + "\n"
 *     preferences.trl.jsonl      one pair per line (src/preferences/formats/writers.ts)
 *     preferences.openai.jsonl   one pair per line, same pairs in the same order
 *     sources/<n>.json           n = 1, 2, … in input order: the signed version document,
 *                                JSON.stringify(document, null, 2) + "\n" (key order as given)
 *
 * Determinism: the same input gives byte-identical files. Nothing reads the
 * clock: the manifest's proof uses `signer.created`, else the latest
 * `published` of the source documents, else 1970-01-01T00:00:00Z. Sources keep
 * the caller's order (it is the precedence the caller composed with);
 * `licences` and `preferenceLicences` are sorted and deduplicated.
 *
 * Consent: the caller filters preference records, and this module skips again
 * every record whose `consent.train` is not exactly `true`; the number skipped
 * is in `counts.skippedWithoutTrainConsent`. Preferences are streamed to both
 * JSONL files through 1 MiB buffers, hashing as they go, so memory stays flat
 * for any number of records.
 *
 * The directory must be empty or absent (a leftover file would be an unlisted
 * file to the verifier). The optional tarball must lie outside it.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, stat, writeFile, type FileHandle } from "node:fs/promises";
import { dirname, join, relative, resolve, isAbsolute, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip, constants as zlibConstants } from "node:zlib";
import { createWriteStream } from "node:fs";
import { canonicalJson } from "../policies/hash.ts";
import { signDocument, type DataIntegrityProof } from "../policies/proof.ts";
import { toOpenAiLines, toTrlLines } from "../preferences/formats.ts";
import type { PreferenceRecord } from "../preferences/record.ts";

export const BUNDLE_FORMAT_VERSION = 1;
export const MANIFEST_FILE = "manifest.json";
export const TRL_FILE = "preferences.trl.jsonl";
export const OPENAI_FILE = "preferences.openai.jsonl";

export interface CommunityKey {
  /** The key's IRI, as named by the proof's `verificationMethod`. */
  id: string;
  publicKeyMultibase: string;
}

export interface BundleSourceInput {
  /** The version's IRI (the document's `id`). */
  iri: string;
  policy: string;
  /** The community actor that signed it (the document's `attributedTo`). */
  community: string;
  contentHash: string;
  /** SPDX licence identifier or expression of the version. */
  licence: string;
  /** The signed version document exactly as published, including `proof`. */
  document: Record<string, unknown>;
  /** The community's public key, embedded so the bundle verifies offline. */
  communityKey?: CommunityKey;
}

export interface BundleInput {
  createdFrom: { sources: string[]; context: string | null; precedence: string[] };
  versions: BundleSourceInput[];
  files: { "policy.md": string; "system-prompt.txt": string; "principles.json": unknown };
  preferences: Iterable<PreferenceRecord> | AsyncIterable<PreferenceRecord>;
  decisions?: unknown[];
  title?: string;
  /** Number of clauses in the composed policy; derived from principles.json when it is an array or has a `clauses` array. */
  clauseCount?: number;
}

export interface BundleSigner {
  privateKey: CryptoKey;
  verificationMethod: string;
  /** The proof's `created`; see the module comment for the deterministic default. */
  created?: Date;
}

export interface WriteBundleOptions {
  signer?: BundleSigner;
  /** Also write a deterministic .tar.gz of the directory here (outside the directory). */
  tarGz?: string;
}

export interface FileEntry {
  /** Lowercase hex SHA-256 of the file's bytes (as `sha256sum` prints it). */
  sha256: string;
  bytes: number;
}

export interface ManifestSource {
  iri: string;
  policy: string;
  community: string;
  contentHash: string;
  licence: string;
  /** Relative path of the stored document: "sources/<n>.json". */
  file: string;
  proof: unknown;
  communityKey: CommunityKey | null;
}

export interface BundleCounts {
  sources: number;
  clauses?: number;
  /** Records written (train consent, at least one pair). */
  preferenceRecords: number;
  /** Lines in each JSONL file. */
  preferencePairs: number;
  skippedWithoutTrainConsent: number;
  /** Records with train consent that yield no pair (all ratings tied). */
  recordsWithoutPairs: number;
}

export interface BundleManifest {
  formatVersion: typeof BUNDLE_FORMAT_VERSION;
  title?: string;
  createdFrom: BundleInput["createdFrom"];
  files: Record<string, FileEntry>;
  sources: ManifestSource[];
  /** Sorted, distinct licences of the source versions. */
  licences: string[];
  /** Sorted, distinct `source.licence` values of the written preference records (null ones left out). */
  preferenceLicences: string[];
  decisions: unknown[];
  counts: BundleCounts;
  proof?: DataIntegrityProof | unknown[];
}

const BUFFER_LIMIT = 1 << 20;

/** Appends strings to a file through a buffer, hashing and counting bytes as it goes. */
class HashingWriter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<HashingWriter> {
    return new HashingWriter(await open(path, "wx"));
  }

  async write(text: string): Promise<void> {
    const chunk = Buffer.from(text, "utf8");
    this.hash.update(chunk);
    this.bytes += chunk.length;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered >= BUFFER_LIMIT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.buffered === 0) return;
    const data = Buffer.concat(this.chunks, this.buffered);
    this.chunks = [];
    this.buffered = 0;
    await this.handle.write(data);
  }

  async close(): Promise<FileEntry> {
    try {
      await this.flush();
    } finally {
      await this.handle.close();
    }
    return { sha256: this.hash.digest("hex"), bytes: this.bytes };
  }

  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
  }
}

function entryFor(data: Buffer): FileEntry {
  return { sha256: createHash("sha256").update(data).digest("hex"), bytes: data.length };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A copy with object keys sorted (UTF-16 code unit order, as JCS) at every depth. */
export function sortKeysDeep(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeysDeep);
  if (isObject(value)) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeysDeep(value[key]);
    return out;
  }
  return value;
}

function sortedDistinct(values: Iterable<string>): string[] {
  return [...new Set(values)].sort();
}

function clauseCountOf(principles: unknown): number | undefined {
  if (Array.isArray(principles)) return principles.length;
  if (isObject(principles) && Array.isArray(principles.clauses)) return principles.clauses.length;
  return undefined;
}

/** The deterministic default for the manifest proof's `created`. */
function defaultCreated(versions: BundleSourceInput[]): Date {
  let latest = 0;
  for (const v of versions) {
    const published = v.document.published;
    if (typeof published === "string") {
      const ms = Date.parse(published);
      if (Number.isFinite(ms) && ms > latest) latest = ms;
    }
  }
  return new Date(latest);
}

async function ensureEmptyDir(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const entries = await readdir(dir);
  if (entries.length > 0) throw new Error(`bundle directory ${dir} is not empty`);
}

/** Streams the preference records into both JSONL files. */
async function writePreferences(
  dir: string,
  records: Iterable<PreferenceRecord> | AsyncIterable<PreferenceRecord>,
): Promise<{ trl: FileEntry; openai: FileEntry; counts: Omit<BundleCounts, "sources" | "clauses">; licences: string[] }> {
  const trl = await HashingWriter.open(join(dir, TRL_FILE));
  let openai: HashingWriter;
  try {
    openai = await HashingWriter.open(join(dir, OPENAI_FILE));
  } catch (error) {
    await trl.abort();
    throw error;
  }
  const counts = { preferenceRecords: 0, preferencePairs: 0, skippedWithoutTrainConsent: 0, recordsWithoutPairs: 0 };
  const licences = new Set<string>();
  try {
    for await (const record of records) {
      // Defence in depth: the caller should already have filtered these out.
      if (record.consent?.train !== true) {
        counts.skippedWithoutTrainConsent++;
        continue;
      }
      const trlLines = toTrlLines(record);
      const openaiLines = toOpenAiLines(record);
      if (trlLines.length === 0) {
        counts.recordsWithoutPairs++;
        continue;
      }
      counts.preferenceRecords++;
      counts.preferencePairs += trlLines.length;
      if (record.source?.licence) licences.add(record.source.licence);
      for (const line of trlLines) await trl.write(line);
      for (const line of openaiLines) await openai.write(line);
    }
  } catch (error) {
    await trl.abort();
    await openai.abort();
    throw error;
  }
  return { trl: await trl.close(), openai: await openai.close(), counts, licences: sortedDistinct(licences) };
}

/**
 * Writes a bundle into `dir` (created if absent; must be empty) and returns
 * its manifest, as written to manifest.json.
 */
export async function writeBundle(dir: string, input: BundleInput, options: WriteBundleOptions = {}): Promise<BundleManifest> {
  const root = resolve(dir);
  if (options.tarGz !== undefined) {
    const rel = relative(root, resolve(options.tarGz));
    if (rel === "" || (!rel.startsWith("..") && !isAbsolute(rel))) throw new Error("the .tar.gz must be written outside the bundle directory");
  }
  await ensureEmptyDir(root);
  const files: Record<string, FileEntry> = {};
  const put = async (path: string, text: string): Promise<void> => {
    const data = Buffer.from(text, "utf8");
    await mkdir(dirname(join(root, path)), { recursive: true });
    await writeFile(join(root, path), data, { flag: "wx" });
    files[path] = entryFor(data);
  };

  await put("policy.md", input.files["policy.md"]);
  await put("system-prompt.txt", input.files["system-prompt.txt"]);
  await put("principles.json", `${JSON.stringify(sortKeysDeep(input.files["principles.json"]), null, 2)}\n`);

  const sources: ManifestSource[] = [];
  for (const [i, version] of input.versions.entries()) {
    const file = `sources/${i + 1}.json`;
    await put(file, `${JSON.stringify(version.document, null, 2)}\n`);
    sources.push({
      iri: version.iri,
      policy: version.policy,
      community: version.community,
      contentHash: version.contentHash,
      licence: version.licence,
      file,
      proof: version.document.proof ?? null,
      communityKey: version.communityKey ? { id: version.communityKey.id, publicKeyMultibase: version.communityKey.publicKeyMultibase } : null,
    });
  }

  const prefs = await writePreferences(root, input.preferences);
  files[TRL_FILE] = prefs.trl;
  files[OPENAI_FILE] = prefs.openai;

  const clauses = input.clauseCount ?? clauseCountOf(input.files["principles.json"]);
  const counts: BundleCounts = { sources: sources.length, ...(clauses === undefined ? {} : { clauses }), ...prefs.counts };
  const licences = sortedDistinct(input.versions.map((v) => v.licence));

  await put(
    "README.md",
    datasetCard({ title: input.title, createdFrom: input.createdFrom, sources, licences, preferenceLicences: prefs.licences, counts, signed: options.signer !== undefined }),
  );

  let manifest: BundleManifest = {
    formatVersion: BUNDLE_FORMAT_VERSION,
    ...(input.title === undefined ? {} : { title: input.title }),
    createdFrom: input.createdFrom,
    files: Object.fromEntries(Object.entries(files).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))),
    sources,
    licences,
    preferenceLicences: prefs.licences,
    decisions: input.decisions ?? [],
    counts,
  };
  if (options.signer) {
    manifest = (await signDocument(manifest as unknown as Record<string, unknown>, {
      privateKey: options.signer.privateKey,
      verificationMethod: options.signer.verificationMethod,
      created: options.signer.created ?? defaultCreated(input.versions),
    })) as unknown as BundleManifest;
  }
  await writeFile(join(root, MANIFEST_FILE), `${canonicalJson(manifest)}\n`, { flag: "wx" });

  if (options.tarGz !== undefined) await writeTarGz(root, options.tarGz);
  return manifest;
}

// ---------------------------------------------------------------------------
// Dataset card

const HF_SIZE_CATEGORIES: [number, string][] = [
  [1_000, "n<1K"],
  [10_000, "1K<n<10K"],
  [100_000, "10K<n<100K"],
  [1_000_000, "100K<n<1M"],
  [10_000_000, "1M<n<10M"],
  [100_000_000, "10M<n<100M"],
  [1_000_000_000, "100M<n<1B"],
];

function sizeCategory(n: number): string {
  for (const [limit, name] of HF_SIZE_CATEGORIES) if (n < limit) return name;
  return "n>1B";
}

/**
 * Hugging Face licence ids are lowercase SPDX ids ("cc-by-4.0"); an SPDX
 * expression ("MIT OR Apache-2.0") has no id there and becomes "other" (the
 * exact licences are in the prose and the manifest).
 */
function hfLicence(spdx: string): string {
  return /^[A-Za-z0-9.+-]+$/.test(spdx) ? spdx.toLowerCase() : "other";
}

/** A YAML double-quoted scalar: JSON string syntax is a subset of it. */
function yamlString(text: string): string {
  return JSON.stringify(text);
}

function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

interface CardInput {
  title: string | undefined;
  createdFrom: BundleInput["createdFrom"];
  sources: ManifestSource[];
  licences: string[];
  preferenceLicences: string[];
  counts: BundleCounts;
  signed: boolean;
}

function datasetCard(card: CardInput): string {
  const title = card.title ?? "Fedalign alignment bundle";
  const allLicences = sortedDistinct([...card.licences, ...card.preferenceLicences]);
  const hf = sortedDistinct(allLicences.map(hfLicence));
  const lines: string[] = ["---"];
  if (hf.length === 0) lines.push("license: other");
  else if (hf.length === 1) lines.push(`license: ${yamlString(hf[0]!)}`);
  else lines.push("license:", ...hf.map((l) => `- ${yamlString(l)}`));
  lines.push(
    `pretty_name: ${yamlString(title)}`,
    "task_categories:",
    "- text-generation",
    "tags:",
    "- alignment",
    "- preference",
    "- dpo",
    "- fedalign",
    "size_categories:",
    `- ${yamlString(sizeCategory(card.counts.preferencePairs))}`,
    "configs:",
    "- config_name: trl",
    "  default: true",
    "  data_files:",
    "  - split: train",
    `    path: ${TRL_FILE}`,
    "- config_name: openai",
    "  data_files:",
    "  - split: train",
    `    path: ${OPENAI_FILE}`,
    "---",
    "",
    `# ${title}`,
    "",
    "An alignment bundle exported by Fedalign: community alignment policies composed into one policy,",
    "with the preference data that raters allowed to be used for training. It contains:",
    "",
    "- `policy.md`: the composed policy, readable;",
    "- `system-prompt.txt`: the policy as a system prompt;",
    "- `principles.json`: the composed clauses as structured data;",
    `- \`${TRL_FILE}\`: preference pairs in Hugging Face TRL conversational format (\`prompt\`, \`chosen\`, \`rejected\`);`,
    `- \`${OPENAI_FILE}\`: the same pairs, in the same order, in OpenAI preference fine-tuning format (\`input\`, \`preferred_output\`, \`non_preferred_output\`);`,
    "- `sources/<n>.json`: each source policy version exactly as its community signed it;",
    "- `manifest.json`: the SHA-256 and size of every other file, the sources and their proofs" + (card.signed ? ", signed by the exporting instance." : "."),
    "",
    "## Sources",
    "",
  );
  if (card.sources.length === 0) lines.push("None.");
  for (const s of card.sources) {
    lines.push(
      `- ${code(s.iri)} (${code(s.file)})`,
      `  - policy: ${code(s.policy)}`,
      `  - community: ${code(s.community)}`,
      `  - content hash: ${code(s.contentHash)}`,
      `  - licence: ${code(s.licence)}`,
      `  - signing key: ${s.communityKey ? code(s.communityKey.id) : "not embedded"}`,
    );
  }
  lines.push("", `Composed from ${card.createdFrom.sources.map(code).join(", ") || "no sources"}`);
  if (card.createdFrom.context !== null) lines.push(`for the context ${code(card.createdFrom.context)}`);
  if (card.createdFrom.precedence.length > 0) lines.push(`with precedence (highest first) ${card.createdFrom.precedence.map(code).join(", ")}`);
  lines[lines.length - 1] += ".";
  lines.push(
    "",
    "## Licences",
    "",
    `Source policies: ${card.licences.map(code).join(", ") || "none"}.`,
    `Imported preference data: ${card.preferenceLicences.map(code).join(", ") || "none declared"}.`,
    "Where several licences are listed, each part of the bundle stays under its own licence.",
    "",
    "## Counts",
    "",
    `- sources: ${card.counts.sources}`,
    ...(card.counts.clauses === undefined ? [] : [`- clauses: ${card.counts.clauses}`]),
    `- preference records: ${card.counts.preferenceRecords}`,
    `- preference pairs (lines in each JSONL file): ${card.counts.preferencePairs}`,
    `- records left out for lack of training consent: ${card.counts.skippedWithoutTrainConsent}`,
    `- records left out because they yield no pair (tied ratings): ${card.counts.recordsWithoutPairs}`,
    "",
    "## Consent",
    "",
    "Every preference record in this bundle was given by a rater who consented to its use for training models",
    "(consent term `train`); records without that consent were left out, both when they were selected and again",
    "when the files were written. The JSONL files hold only prompts and responses: no rater ids, groups,",
    "rationales or other personal data.",
    "",
    "## How to verify",
    "",
    "With Fedalign: `verifyBundle(dir)` from `src/bundles/verify.ts` checks every file against the manifest,",
    "recomputes each source's content hash, verifies each source's eddsa-jcs-2022 proof (with pinned keys,",
    "else the community keys embedded in the manifest, else fetched ones) and the manifest's own proof.",
    "",
    "By hand:",
    "",
    "```sh",
    "# every file's hash, against manifest.json's \"files\"",
    "jq -r '.files | to_entries[] | \"\\(.value.sha256)  \\(.key)\"' manifest.json | sha256sum -c",
    "# a source's content hash: compare with its \"contentHash\"",
    "jq .normativeContent sources/1.json | npx canonicalize | sha256sum",
    "```",
    "",
    "An embedded community key proves that the documents were not changed since they were signed with it; that the",
    "key belongs to the community is for you to check, e.g. against the community's actor document.",
    "",
  );
  return lines.join("\n");
}

// ---------------------------------------------------------------------------
// Deterministic .tar.gz

/** Every file under `root`, as sorted "/"-separated relative paths. */
export async function listFiles(root: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, entry.name);
      if (entry.isDirectory()) await walk(full);
      else out.push(relative(root, full).split(sep).join("/"));
    }
  };
  await walk(root);
  return out.sort();
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

/** A ustar header: mode 0644, uid/gid 0, mtime 0, empty owner names. */
function tarHeader(path: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  let name = path;
  let prefix = "";
  if (Buffer.byteLength(name) > 100) {
    const cut = path.lastIndexOf("/", 155);
    if (cut <= 0 || Buffer.byteLength(path.slice(cut + 1)) > 100 || Buffer.byteLength(path.slice(0, cut)) > 155) {
      throw new Error(`path too long for ustar: ${path}`);
    }
    prefix = path.slice(0, cut);
    name = path.slice(cut + 1);
  }
  if (size > 0o77777777777) throw new Error(`file too large for ustar: ${path}`);
  header.write(name, 0, 100, "utf8");
  header.write(octal(0o644, 8), 100, "ascii");
  header.write(octal(0, 8), 108, "ascii");
  header.write(octal(0, 8), 116, "ascii");
  header.write(octal(size, 12), 124, "ascii");
  header.write(octal(0, 12), 136, "ascii");
  header.write("        ", 148, "ascii");
  header.write("0", 156, "ascii");
  header.write("ustar\0", 257, "ascii");
  header.write("00", 263, "ascii");
  header.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return header;
}

async function* tarEntries(root: string): AsyncGenerator<Buffer> {
  for (const path of await listFiles(root)) {
    const full = join(root, path);
    const { size } = await stat(full);
    yield tarHeader(path, size);
    let read = 0;
    for await (const chunk of createReadStream(full)) {
      read += (chunk as Buffer).length;
      yield chunk as Buffer;
    }
    if (read !== size) throw new Error(`${path} changed while it was archived`);
    const pad = (512 - (size % 512)) % 512;
    if (pad > 0) yield Buffer.alloc(pad);
  }
  yield Buffer.alloc(1024);
}

/** Sets the gzip header's OS byte to 3 (Unix) whatever platform zlib was built for; mtime is already 0. */
async function* fixGzipHeader(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let offset = 0;
  for await (const chunk of source) {
    if (offset <= 9 && offset + chunk.length > 9) chunk[9 - offset] = 3;
    offset += chunk.length;
    yield chunk;
  }
}

/**
 * Writes a .tar.gz of `root`: ustar entries for the files only (no directory
 * entries; extractors create them), paths relative to the bundle root (so
 * extract into a directory of your choice: `mkdir b && tar -xzf x.tar.gz -C b`),
 * sorted, mode 0644, uid/gid 0, mtime 0; gzip level 9 with mtime 0, no name.
 * Byte-identical for identical files with the same zlib build.
 */
export async function writeTarGz(root: string, target: string): Promise<void> {
  await mkdir(dirname(resolve(target)), { recursive: true });
  await pipeline(
    tarEntries(root),
    createGzip({ level: 9, strategy: zlibConstants.Z_DEFAULT_STRATEGY }),
    fixGzipHeader,
    createWriteStream(target),
  );
}
