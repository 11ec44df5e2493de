/**
 * Alignment bundles: a directory (and optionally a .tar.gz of it) that a model
 * operator can take offline and check without trusting anyone but the
 * communities that signed its sources.
 *
 * Layout (all paths relative to the bundle directory):
 *
 *     manifest.json                 canonical JSON (RFC 8785) + "\n"; not listed in itself
 *     sources/<n>.json              signed: policy version n as its community signed it
 *     preferences/<n>.jsonl         signed: the dataset pages of source n's policy, one per line
 *     README.md                     derived: dataset card (YAML front matter + prose)
 *     policy.md                     derived: the composed policy, readable
 *     system-prompt.txt             derived: system prompt for the first context
 *     system-prompt.<k>.txt         derived: for the k-th context, when several are asked for
 *     principles.json               derived: Constitutional-AI principles
 *     preferences.trl.jsonl         derived: pairs in TRL conversational form
 *     preferences.openai.jsonl      derived: the same pairs in OpenAI preference form
 *     preferences.provenance.jsonl  derived: where each pair came from, line for line
 *
 * What is derived, and from what, is in ./derive.ts; `verify` derives it all
 * again and compares bytes. Determinism: the same input gives byte-identical
 * files. Nothing reads the clock: the manifest's proof uses `signer.created`,
 * else the latest `published` of the source documents, else 1970-01-01.
 *
 * Preference pages are streamed through 1 MiB buffers, hashing as they go,
 * so memory stays flat for any number of records. The directory must be
 * empty or absent (and is left so when writing fails, e.g. on a refused
 * page); the optional tarball must lie outside it.
 */
import { createHash, type Hash } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, open, readdir, rm, stat, writeFile, type FileHandle } from "node:fs/promises";
import { dirname, join, relative, resolve, isAbsolute, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip, constants as zlibConstants } from "node:zlib";
import { createWriteStream } from "node:fs";
import { canonicalJson } from "../policies/hash.ts";
import { signDocument } from "../policies/proof.ts";
import type { SystemPromptMode } from "./compose.ts";
import type { ObjectionAnnotation } from "./compose.ts";
import { MANIFEST_FILE, deriveBundle, type BundleManifest, type BundleSink, type CommunityKey, type FileEntry, type LineSink } from "./derive.ts";

export {
  BUNDLE_FORMAT_VERSION,
  MANIFEST_FILE,
  OPENAI_FILE,
  PROVENANCE_FILE,
  TRL_FILE,
  type BundleManifest,
  type CommunityKey,
  type FileEntry,
  type ManifestSource,
  type PairProvenance,
} from "./derive.ts";

export interface BundleSourceInput {
  /** The signed version document exactly as published, including `proof`. */
  document: Record<string, unknown>;
  /** The community's public key, embedded so the bundle verifies offline. */
  communityKey?: CommunityKey;
}

export interface BundleInput {
  /** How the caller named the sources (IRIs, or "3@2" on an instance). */
  sources: string[];
  versions: BundleSourceInput[];
  /** Target contexts; the first is composed into policy.md and principles.json. Empty: any context. */
  contexts?: string[];
  /** Policy IRIs, highest precedence first (default: the versions' order). */
  precedence?: string[];
  systemPrompt?: SystemPromptMode;
  keepFlawed?: boolean;
  annotations?: ObjectionAnnotation[];
  /**
   * The signed dataset pages of source n's policy (n 1-based; one dataset per
   * policy, at its first version), in order; absent: no preference data.
   */
  pages?: (source: number) => AsyncIterable<Record<string, unknown>>;
  decisions?: unknown[];
  title?: string;
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

const BUFFER_LIMIT = 1 << 20;

/** Appends strings to a file through a buffer, hashing and counting bytes as it goes. */
class HashingWriter implements LineSink {
  private chunks: Buffer[] = [];
  private buffered = 0;
  private readonly hash: Hash = createHash("sha256");
  private bytes = 0;
  private constructor(private readonly handle: FileHandle) {}

  static async open(path: string): Promise<HashingWriter> {
    await mkdir(dirname(path), { recursive: true });
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

export function entryFor(data: Buffer): FileEntry {
  return { sha256: createHash("sha256").update(data).digest("hex"), bytes: data.length };
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

/** Makes sure `dir` is an empty directory; says whether it had to be created. */
async function ensureEmptyDir(dir: string): Promise<boolean> {
  const created = (await mkdir(dir, { recursive: true })) !== undefined;
  const entries = await readdir(dir);
  if (entries.length > 0) throw new Error(`bundle directory ${dir} is not empty`);
  return created;
}

/** After a failure: the directory as it was before (absent, or empty). */
async function undoBundle(root: string, created: boolean): Promise<void> {
  if (created) await rm(root, { recursive: true, force: true });
  else for (const entry of await readdir(root)) await rm(join(root, entry), { recursive: true, force: true });
}

/** Writes files under `root`, refusing to overwrite; closes every open file on failure. */
function diskSink(root: string): BundleSink & { abort(): Promise<void> } {
  const open: HashingWriter[] = [];
  return {
    async text(path, content) {
      const data = Buffer.from(content, "utf8");
      await mkdir(dirname(join(root, path)), { recursive: true });
      await writeFile(join(root, path), data, { flag: "wx" });
      return entryFor(data);
    },
    async lines(path) {
      const writer = await HashingWriter.open(join(root, path));
      open.push(writer);
      return writer;
    },
    async abort() {
      for (const writer of open) await writer.abort();
    },
  };
}

async function* noPages(): AsyncGenerator<Record<string, unknown>> {}

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
  const created = await ensureEmptyDir(root);
  const sink = diskSink(root);
  let manifest: BundleManifest;
  try {
    manifest = await deriveBundle(
      {
        ...(input.title === undefined ? {} : { title: input.title }),
        spec: {
          sources: input.sources,
          contexts: (input.contexts ?? []).map((c) => c.trim()),
          precedence: input.precedence ?? input.versions.map((v) => String(v.document.policy)),
          systemPrompt: input.systemPrompt ?? "compact",
          keepFlawed: input.keepFlawed ?? false,
          annotations: input.annotations ?? [],
        },
        sources: input.versions.map((v) => ({ document: v.document, communityKey: v.communityKey ?? null })),
        withPreferences: input.pages !== undefined,
        pages: input.pages ?? noPages,
        decisions: input.decisions ?? [],
        signed: options.signer !== undefined,
      },
      sink,
    );
  } catch (error) {
    // A refused page or source half-way leaves nothing behind: no bundle is better than part of one.
    await sink.abort();
    await undoBundle(root, created);
    throw error;
  }
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
