/**
 * HTTP Signatures as widely deployed fediverse servers speak them
 * (draft-cavage-http-signatures-12 with rsa-sha256 and a SHA-256 Digest),
 * written with node:crypto only. Test peers use this instead of Fedify, so
 * that what they accept or refuse is an independent opinion of our wire format.
 */
import { createHash, createPublicKey, createSign, createVerify, generateKeyPairSync, type KeyObject } from "node:crypto";

export interface RsaKeyPair {
  publicKeyPem: string;
  privateKey: KeyObject;
}

/** RSA-2048, as Mastodon uses for actors. */
export function generateRsaKeyPair(): RsaKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  return { publicKeyPem: publicKey.export({ type: "spki", format: "pem" }).toString(), privateKey };
}

export function digestHeader(body: string | Buffer): string {
  return `SHA-256=${createHash("sha256").update(body).digest("base64")}`;
}

/** The headers to send with a signed request (GET when body is undefined). */
export function signRequest(options: {
  method: string;
  url: string | URL;
  body?: string;
  keyId: string;
  privateKey: KeyObject;
  date?: Date;
  /** Extra headers to send (and sign), e.g. content-type. */
  headers?: Record<string, string>;
}): Record<string, string> {
  const url = new URL(options.url);
  const headers: Record<string, string> = {
    host: url.host,
    date: (options.date ?? new Date()).toUTCString(),
    ...Object.fromEntries(Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
  };
  if (options.body !== undefined) headers.digest = digestHeader(options.body);
  const signed = ["(request-target)", ...Object.keys(headers)];
  const signingString = signed
    .map((name) =>
      name === "(request-target)" ? `(request-target): ${options.method.toLowerCase()} ${url.pathname}${url.search}` : `${name}: ${headers[name]}`,
    )
    .join("\n");
  const signature = createSign("sha256").update(signingString).sign(options.privateKey, "base64");
  headers.signature = `keyId="${options.keyId}",algorithm="rsa-sha256",headers="${signed.join(" ")}",signature="${signature}"`;
  return headers;
}

export interface ParsedSignature {
  keyId: string;
  algorithm?: string;
  headers: string[];
  signature: string;
}

export function parseSignatureHeader(value: string): ParsedSignature | undefined {
  const fields = new Map<string, string>();
  for (const match of value.matchAll(/(\w+)="([^"]*)"/g)) fields.set(match[1]!, match[2]!);
  const keyId = fields.get("keyId");
  const signature = fields.get("signature");
  if (!keyId || !signature) return undefined;
  return { keyId, algorithm: fields.get("algorithm"), headers: (fields.get("headers") ?? "date").split(" "), signature };
}

export type VerifyResult = { ok: true; keyId: string } | { ok: false; reason: string };

/**
 * Verifies a draft-cavage signature the way Mastodon does: (request-target),
 * host and date must be signed, the date within 12 hours, the Digest must
 * match the body, and the key (fetched by the caller) must verify it.
 */
export async function verifyRequest(request: {
  method: string;
  /** Path and query, as received. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body?: Buffer;
  fetchPublicKeyPem: (keyId: string) => Promise<string | undefined>;
  now?: Date;
}): Promise<VerifyResult> {
  const header = (name: string) => {
    const value = request.headers[name];
    return Array.isArray(value) ? value.join(", ") : value;
  };
  const raw = header("signature");
  if (!raw) return { ok: false, reason: "no Signature header (draft-cavage)" };
  const parsed = parseSignatureHeader(raw);
  if (!parsed) return { ok: false, reason: "unparsable Signature header" };
  for (const required of ["(request-target)", "host", "date"]) {
    if (!parsed.headers.includes(required)) return { ok: false, reason: `${required} is not signed` };
  }
  if (request.body !== undefined && request.body.length > 0) {
    if (!parsed.headers.includes("digest")) return { ok: false, reason: "digest is not signed" };
    if (header("digest") !== digestHeader(request.body)) return { ok: false, reason: "digest does not match the body" };
  }
  const date = Date.parse(header("date") ?? "");
  const now = (request.now ?? new Date()).getTime();
  if (Number.isNaN(date) || Math.abs(now - date) > 12 * 3600_000) return { ok: false, reason: "date missing or out of range" };
  const missing = parsed.headers.find((name) => name !== "(request-target)" && header(name) === undefined);
  if (missing) return { ok: false, reason: `signed header ${missing} is missing` };
  const signingString = parsed.headers
    .map((name) =>
      name === "(request-target)" ? `(request-target): ${request.method.toLowerCase()} ${request.path}` : `${name}: ${header(name)}`,
    )
    .join("\n");
  const pem = await request.fetchPublicKeyPem(parsed.keyId);
  if (!pem) return { ok: false, reason: `could not fetch key ${parsed.keyId}` };
  const ok = createVerify("sha256").update(signingString).verify(createPublicKey(pem), parsed.signature, "base64");
  return ok ? { ok: true, keyId: parsed.keyId } : { ok: false, reason: "signature does not verify" };
}
