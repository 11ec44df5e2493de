/**
 * The one way this instance fetches remote documents (actors, keys,
 * objects, collections, JSON-LD contexts and WebFinger answers). Every
 * fetch here:
 *
 * - gives up after FETCH_TIMEOUT_MS;
 * - reads at most 1 MiB of ActivityStreams (100 KiB of WebFinger);
 * - refuses a Content-Type that is not ActivityStreams JSON (JSON for
 *   WebFinger), and a document whose `id` is not on the origin of the URL it
 *   was finally served from (after redirects);
 * - refuses private and special addresses, checked after DNS, unless the
 *   operator allows private addresses.
 *
 * The Fedify document loader built here also enforces key ownership
 * (./key-ownership.ts), so Fedify's own signature checks, which fetch keys
 * through it, never trust a key that its actor does not list.
 *
 * Use `loadDocument(ctx, url, { fresh: true })` for a raw document that an
 * activity says changed, and `ctx.lookupObject(url, { documentLoader:
 * ctx.data.loaders.fresh })` for a parsed object; `ctx.documentLoader`
 * answers from the five-minute cache.
 */
import { kvCache, signRequest, type KvStore } from "@fedify/fedify";
import type { DocumentLoader, RemoteDocument } from "@fedify/vocab";
import { getLogger } from "@logtape/logtape";
import { assertPublicHost } from "./addresses.ts";
import { readLimited } from "./bounded-body.ts";
import { assertKeyOwnership } from "./key-ownership.ts";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../src/version.ts";

const logger = getLogger(["fedalign", "federation", "fetch"]);

export const USER_AGENT = `${SOFTWARE_NAME}/${SOFTWARE_VERSION} (Fedify/2.3.6)`;
export const FETCH_TIMEOUT_MS = 10_000;
export const ACTIVITYSTREAMS_LIMIT = 1024 * 1024;
export const WEBFINGER_LIMIT = 100 * 1024;
const MAX_REDIRECTS = 5;
const AS_PROFILE = "https://www.w3.org/ns/activitystreams";

export type DocumentKind = "activitystreams" | "context" | "webfinger";

const ACCEPT: Record<DocumentKind, string> = {
  activitystreams: `application/activity+json, application/ld+json; profile="${AS_PROFILE}"`,
  context: "application/ld+json, application/json",
  webfinger: "application/jrd+json, application/json",
};

/** A remote document refused by a check of this module (not a network failure). */
export class RefusedDocumentError extends Error {
  /** Set once the refusal is logged, so a refusal seen through nested loaders is logged once. */
  reported = false;
  constructor(readonly url: string, readonly reason: string) {
    super(`Refused ${url}: ${reason}`);
    this.name = "RefusedDocumentError";
  }
}

export interface FetchOptions {
  kind: DocumentKind;
  allowPrivateAddress: boolean;
  userAgent?: string;
  signal?: AbortSignal;
  /** Signs each request (authorized fetch). */
  sign?: (request: Request) => Promise<Request>;
  timeoutMs?: number;
}

export interface FetchedDocument {
  document: unknown;
  /** Where it was served from, after redirects. */
  finalUrl: string;
}

function mediaTypeAllowed(kind: DocumentKind, header: string | null): boolean {
  const [type = "", ...params] = (header ?? "").toLowerCase().split(";").map((part) => part.trim());
  if (kind === "webfinger") return type === "application/jrd+json" || type === "application/json";
  if (kind === "context") return type === "application/ld+json" || type === "application/json";
  if (type === "application/activity+json") return true;
  if (type !== "application/ld+json") return false;
  const profile = params.find((param) => param.startsWith("profile="));
  return profile !== undefined && profile.replace(/^profile=/, "").replace(/^"|"$/g, "").split(/\s+/).includes(AS_PROFILE);
}

function sizeLimit(kind: DocumentKind): number {
  return kind === "webfinger" ? WEBFINGER_LIMIT : ACTIVITYSTREAMS_LIMIT;
}

async function readCapped(response: Response, url: string, limit: number): Promise<string> {
  const bytes = await readLimited(response, limit);
  if (!bytes) throw new RefusedDocumentError(url, `it is over the ${limit}-byte limit`);
  return Buffer.from(bytes).toString("utf8");
}

async function checkedUrl(raw: string, allowPrivateAddress: boolean): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RefusedDocumentError(raw, "it is not a URL");
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new RefusedDocumentError(raw, `${url.protocol} is not http(s)`);
  if (url.username || url.password) throw new RefusedDocumentError(raw, "it carries credentials");
  if (!allowPrivateAddress) {
    try {
      await assertPublicHost(url.hostname);
    } catch (error) {
      throw new RefusedDocumentError(raw, error instanceof Error ? error.message : String(error));
    }
  }
  return url;
}

/** Redirects followed by hand, so that every hop is checked. */
async function fetchFollowingRedirects(start: string, options: FetchOptions, signal: AbortSignal): Promise<Response & { finalUrl: string }> {
  let current = start;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const url = await checkedUrl(current, options.allowPrivateAddress);
    let request = new Request(url, {
      headers: { Accept: ACCEPT[options.kind], ...(options.userAgent ? { "User-Agent": options.userAgent } : {}) },
      redirect: "manual",
      signal,
    });
    if (options.sign) request = await options.sign(request);
    let response: Response;
    try {
      response = await fetch(request, { redirect: "manual", signal });
    } catch (error) {
      throw signal.aborted && !options.signal?.aborted ? timedOut(start, options) : error;
    }
    const location = response.headers.get("location");
    if (response.status >= 300 && response.status < 400 && location) {
      await response.body?.cancel();
      current = new URL(location, url).href;
      continue;
    }
    return Object.assign(response, { finalUrl: url.href });
  }
  throw new RefusedDocumentError(start, `more than ${MAX_REDIRECTS} redirects`);
}

function documentId(document: unknown): string | undefined {
  if (typeof document !== "object" || document === null || Array.isArray(document)) return undefined;
  const record = document as Record<string, unknown>;
  const id = record.id ?? record["@id"];
  return typeof id === "string" ? id : undefined;
}

/**
 * Fetches and parses one remote JSON document with every check above.
 * Throws RefusedDocumentError for a refusal, and a FetchError-like Error
 * for an HTTP error status.
 */
export async function fetchDocument(url: string, options: FetchOptions): Promise<FetchedDocument> {
  // One deadline for the whole exchange, body included; the caller's signal
  // (often long-lived) gets a listener only for as long as this fetch runs.
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? FETCH_TIMEOUT_MS);
  const forward = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", forward, { once: true });
  try {
    return await fetchChecked(url, options, controller.signal);
  } catch (error) {
    throw controller.signal.aborted && !options.signal?.aborted && !(error instanceof RefusedDocumentError) ? timedOut(url, options) : error;
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", forward);
  }
}

function timedOut(url: string, options: FetchOptions): RefusedDocumentError {
  return new RefusedDocumentError(url, `no answer within ${options.timeoutMs ?? FETCH_TIMEOUT_MS} ms`);
}

async function fetchChecked(url: string, options: FetchOptions, signal: AbortSignal): Promise<FetchedDocument> {
  const response = await fetchFollowingRedirects(url, options, signal);
  const { finalUrl } = response;
  if (!response.ok) {
    await response.body?.cancel();
    throw Object.assign(new Error(`${url}: HTTP ${response.status}`), { name: "FetchError", url: new URL(url), response });
  }
  if (!mediaTypeAllowed(options.kind, response.headers.get("content-type"))) {
    await response.body?.cancel();
    throw new RefusedDocumentError(url, `Content-Type ${JSON.stringify(response.headers.get("content-type") ?? "")} is not ${options.kind === "webfinger" ? "JSON" : "ActivityStreams JSON"}`);
  }
  const text = await readCapped(response, url, sizeLimit(options.kind));
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch {
    throw new RefusedDocumentError(url, "it is not JSON");
  }
  if (options.kind === "activitystreams") {
    // An ActivityStreams document is one object; an array or a @graph would carry ids this check cannot see.
    if (typeof document !== "object" || document === null || Array.isArray(document) || "@graph" in document) {
      throw new RefusedDocumentError(url, "it is not a single JSON object");
    }
    const id = documentId(document);
    if (id !== undefined && URL.canParse(id) && new URL(id).origin !== new URL(finalUrl).origin) {
      throw new RefusedDocumentError(url, `it names itself ${id} but was served from ${new URL(finalUrl).origin}`);
    }
  }
  return { document, finalUrl };
}

export interface DocumentLoaders {
  /** Cached for five minutes (Fedify's `ctx.documentLoader` is this one). */
  cached: DocumentLoader;
  /** Always fetched from the network: for when an activity says a document changed. */
  fresh: DocumentLoader;
  /** JSON-LD contexts (those Fedify preloads never leave the process). */
  context: DocumentLoader;
  /** Signed fetches on behalf of a local actor. */
  authenticated: (identity: { keyId: URL; privateKey: CryptoKey }) => DocumentLoader;
}

/**
 * A remote document through the guarded loaders: from the five-minute cache
 * unless `fresh` (when an activity says the document changed).
 */
export function loadDocument(ctx: { documentLoader: DocumentLoader; data: { loaders: DocumentLoaders } }, url: string, options: { fresh?: boolean } = {}): Promise<RemoteDocument> {
  return options.fresh ? ctx.data.loaders.fresh(url) : ctx.documentLoader(url);
}

/** Logs a refusal once, at info, with the URL and the reason. */
function logged(loader: DocumentLoader): DocumentLoader {
  return async (url, options) => {
    try {
      return await loader(url, options);
    } catch (error) {
      if (error instanceof RefusedDocumentError && !error.reported) {
        error.reported = true;
        logger.info("Refused remote document {url}: {reason}.", { url: error.url, reason: error.reason });
      }
      throw error;
    }
  };
}

export function createDocumentLoaders(setup: { kv: KvStore; allowPrivateAddress: boolean; userAgent: string }): DocumentLoaders {
  const base = { allowPrivateAddress: setup.allowPrivateAddress, userAgent: setup.userAgent };
  const load = (kind: DocumentKind, sign?: FetchOptions["sign"]) =>
    async (url: string, options?: { signal?: AbortSignal | null }): Promise<RemoteDocument> => {
      const { document, finalUrl } = await fetchDocument(url, { ...base, kind, sign, signal: options?.signal ?? undefined });
      if (kind === "activitystreams") await assertKeyOwnership(document, finalUrl, loaders.cached, loaders.context);
      return { contextUrl: null, document, documentUrl: finalUrl };
    };
  const loaders: DocumentLoaders = {
    cached: kvCache({ loader: logged(load("activitystreams")), kv: setup.kv, prefix: ["_fedify", "remoteDocument"] }),
    fresh: logged(load("activitystreams")),
    context: kvCache({ loader: logged(load("context")), kv: setup.kv, prefix: ["_fedify", "remoteContext"], kind: "context" }),
    authenticated: (identity) =>
      logged(load("activitystreams", (request) => signRequest(request, identity.privateKey, identity.keyId))),
  };
  return loaders;
}
