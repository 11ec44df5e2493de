/**
 * Data Integrity proofs over plain JSON documents with the `eddsa-jcs-2022`
 * cryptosuite (W3C "Data Integrity EdDSA Cryptosuites v1.0", as used by
 * FEP-8b32 Object Integrity Proofs). Fedify's own createProof/verifyProof
 * only work on its vocabulary objects and fetch keys over the network; this
 * module signs any JSON object and verifies offline against a given key, e.g.
 * one pinned as a `publicKeyMultibase` string.
 *
 * The algorithm, so that others can check our proofs:
 *
 * 1. unsecured = the document without its `proof` property.
 * 2. proofConfig = { type: "DataIntegrityProof", cryptosuite: "eddsa-jcs-2022",
 *    verificationMethod, proofPurpose: "assertionMethod", created } and, when
 *    the document has an `@context`, that same `@context`.
 * 3. hashData = SHA-256(JCS(proofConfig)) || SHA-256(JCS(unsecured)), 64 bytes,
 *    JCS being RFC 8785 canonical JSON encoded as UTF-8.
 * 4. proofValue = "z" + base58btc(Ed25519 signature of hashData).
 * 5. proof = proofConfig + proofValue, set as the document's `proof`.
 *
 * To verify, take the proof minus `proofValue` as the proof configuration and
 * recompute hashData (see proofConfigs for how `@context` is treated). `created` is written to whole seconds without a
 * fraction ("2025-01-02T03:04:05Z") because Fedify re-serialises the string
 * through Temporal.Instant before hashing, which drops a ".000".
 */
import { createHash, webcrypto } from "node:crypto";
import bs58 from "bs58";
import { canonicalJson } from "./hash.ts";

export const PROOF_TYPE = "DataIntegrityProof";
export const CRYPTOSUITE = "eddsa-jcs-2022";
export const PROOF_PURPOSE = "assertionMethod";

export interface DataIntegrityProof {
  "@context"?: unknown;
  type: typeof PROOF_TYPE;
  cryptosuite: typeof CRYPTOSUITE;
  verificationMethod: string;
  proofPurpose: typeof PROOF_PURPOSE;
  created: string;
  proofValue: string;
}

export interface SignOptions {
  privateKey: CryptoKey;
  /** The key's IRI (an actor's `assertionMethod` entry), written into the proof. */
  verificationMethod: string;
  /** Defaults to now. Truncated to whole seconds. */
  created?: Date;
}

export type SignedDocument<T> = T & { proof: DataIntegrityProof | unknown[] };
export type VerifyResult = { ok: true } | { ok: false; reason: string };

type Json = Record<string, unknown>;

/** Multicodec prefix of an Ed25519 public key (varint 0xed). */
const ED25519_PUB_PREFIX = [0xed, 0x01] as const;
const XSD_DATETIME = /^\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

function isObject(value: unknown): value is Json {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function sha256(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function hashData(proofConfig: Json, unsecured: Json): Uint8Array {
  return Buffer.concat([sha256(canonicalJson(proofConfig)), sha256(canonicalJson(unsecured))]);
}

function withoutKey(object: Json, key: string): Json {
  const { [key]: _removed, ...rest } = object;
  return rest;
}

/** XML Schema dateTimeStamp to whole seconds, the form Fedify round-trips unchanged. */
export function formatCreated(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

/**
 * Adds an eddsa-jcs-2022 proof. A document that already carries proofs gets
 * one more (a proof set: each proof covers the document without any proof).
 */
export async function signDocument<T extends Json>(doc: T, options: SignOptions): Promise<SignedDocument<T>> {
  if (options.privateKey.algorithm.name !== "Ed25519") throw new TypeError("signDocument needs an Ed25519 private key.");
  const unsecured = withoutKey(doc, "proof");
  const config: Json = {
    type: PROOF_TYPE,
    cryptosuite: CRYPTOSUITE,
    verificationMethod: options.verificationMethod,
    proofPurpose: PROOF_PURPOSE,
    created: formatCreated(options.created ?? new Date()),
  };
  // Spec step "set proof.@context": keeps the proof valid when moved into a proof set.
  if (unsecured["@context"] !== undefined) config["@context"] = unsecured["@context"];
  const signature = await webcrypto.subtle.sign("Ed25519", options.privateKey, hashData(config, unsecured));
  const proof = { ...config, proofValue: `z${bs58.encode(new Uint8Array(signature))}` } as DataIntegrityProof;
  const existing = doc.proof;
  return { ...doc, proof: existing === undefined ? proof : [...toArray(existing), proof] };
}

function toArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Verifies the document's proof (any proof of a proof set) against one
 * Ed25519 public key. The reason says what failed first; it is for logs and
 * error messages, not for branching.
 */
export async function verifyDocument(doc: unknown, publicKey: CryptoKey): Promise<VerifyResult> {
  if (publicKey.algorithm.name !== "Ed25519") return fail("the key is not an Ed25519 key");
  if (!isObject(doc)) return fail("the document is not a JSON object");
  if (doc.proof === undefined || doc.proof === null) return fail("missing proof");
  const proofs = toArray(doc.proof);
  if (proofs.length === 0) return fail("missing proof");
  const unsecured = withoutKey(doc, "proof");
  let first: VerifyResult | undefined;
  for (const proof of proofs) {
    const result = await verifyOne(unsecured, proof, publicKey);
    if (result.ok) return result;
    first ??= result;
  }
  return first!;
}

function fail(reason: string): VerifyResult {
  return { ok: false, reason };
}

async function verifyOne(unsecured: Json, proof: unknown, publicKey: CryptoKey): Promise<VerifyResult> {
  const problem = checkProofShape(proof);
  if (problem) return fail(problem);
  const options = withoutKey(proof as Json, "proofValue");
  const signature = decodeProofValue((proof as Json).proofValue);
  if (typeof signature === "string") return fail(signature);
  const configs = proofConfigs(options, unsecured);
  if (typeof configs === "string") return fail(configs);
  for (const config of configs) {
    if (await webcrypto.subtle.verify("Ed25519", publicKey, signature, hashData(config, unsecured))) return { ok: true };
  }
  return fail("signature mismatch: the document, the proof or the key differ from what was signed");
}

/** A description of what is wrong with the proof's fixed fields, or undefined. */
function checkProofShape(proof: unknown): string | undefined {
  if (!isObject(proof)) return "the proof is not a JSON object";
  if (proof.type !== PROOF_TYPE) return `unsupported proof type ${JSON.stringify(proof.type)}; expected "${PROOF_TYPE}"`;
  if (proof.cryptosuite !== CRYPTOSUITE) {
    return `wrong cryptosuite ${JSON.stringify(proof.cryptosuite)}; expected "${CRYPTOSUITE}"`;
  }
  if (proof.proofPurpose !== PROOF_PURPOSE) {
    return `wrong proofPurpose ${JSON.stringify(proof.proofPurpose)}; expected "${PROOF_PURPOSE}"`;
  }
  if (typeof proof.verificationMethod !== "string" || proof.verificationMethod === "") return "missing verificationMethod";
  if (proof.created !== undefined && (typeof proof.created !== "string" || !XSD_DATETIME.test(proof.created))) {
    return "created is not an XML Schema dateTime";
  }
  return undefined;
}

/** The 64 signature bytes, or the reason they cannot be read. */
function decodeProofValue(value: unknown): Uint8Array | string {
  if (typeof value !== "string" || !value.startsWith("z")) return "bad proofValue encoding: expected base58btc multibase (\"z…\")";
  let bytes: Uint8Array;
  try {
    bytes = bs58.decode(value.slice(1));
  } catch {
    return "bad proofValue encoding: not valid base58btc";
  }
  if (bytes.length !== 64) return `bad proofValue: ${bytes.length} bytes where an Ed25519 signature has 64`;
  return bytes;
}

/**
 * The proof configurations to try against the document.
 *
 * A proof that carries `@context` must carry exactly the document's. The spec
 * only asks that the document's context start with the proof's (so contexts
 * can be added for later proofs in a chain); we have no chains, and accepting
 * that would let anyone append a context, which can redefine terms, to a
 * signed document without breaking its proof.
 *
 * A proof without `@context` may come from a signer that hashed the
 * document's context into the configuration without writing it into the
 * proof (Fedify, older FEP-8b32 code) or from one that skipped that step, as
 * the spec tolerates; both are tried. The signature still binds every field
 * present, so trying two is no weaker.
 */
function proofConfigs(options: Json, unsecured: Json): Json[] | string {
  const docContext = unsecured["@context"];
  const proofContext = options["@context"];
  if (proofContext !== undefined) {
    if (docContext === undefined || canonicalJson(docContext) !== canonicalJson(proofContext)) {
      return "the proof's @context differs from the document's @context";
    }
    return [options];
  }
  if (docContext === undefined) return [options];
  return [{ ...options, "@context": docContext }, options];
}

/** The key IRI named by the document's (first) proof, to look the key up before verifying. */
export function proofVerificationMethod(doc: unknown): string | undefined {
  if (!isObject(doc) || doc.proof === undefined) return undefined;
  const [proof] = toArray(doc.proof);
  if (!isObject(proof)) return undefined;
  return typeof proof.verificationMethod === "string" ? proof.verificationMethod : undefined;
}

/**
 * Imports an Ed25519 public key from its Multikey form: "z" + base58btc of
 * the multicodec prefix 0xed 0x01 followed by the 32 raw key bytes (so it
 * always starts "z6Mk"). The key is extractable and can only verify.
 */
export async function publicKeyFromMultibase(multibase: string): Promise<CryptoKey> {
  if (!multibase.startsWith("z")) throw new TypeError("Expected a base58btc multibase key starting with \"z\".");
  let bytes: Uint8Array;
  try {
    bytes = bs58.decode(multibase.slice(1));
  } catch {
    throw new TypeError("The multibase key is not valid base58btc.");
  }
  if (bytes.length !== 34 || bytes[0] !== ED25519_PUB_PREFIX[0] || bytes[1] !== ED25519_PUB_PREFIX[1]) {
    throw new TypeError("The multibase key is not an Ed25519 public key (multicodec 0xed01, 32 bytes).");
  }
  return webcrypto.subtle.importKey("raw", bytes.slice(2), "Ed25519", true, ["verify"]);
}

/** The Multikey `publicKeyMultibase` of an extractable Ed25519 public key. */
export async function multibaseFromPublicKey(key: CryptoKey): Promise<string> {
  if (key.algorithm.name !== "Ed25519" || key.type !== "public") throw new TypeError("Expected an Ed25519 public key.");
  const raw = new Uint8Array(await webcrypto.subtle.exportKey("raw", key));
  const bytes = new Uint8Array(ED25519_PUB_PREFIX.length + raw.length);
  bytes.set(ED25519_PUB_PREFIX, 0);
  bytes.set(raw, ED25519_PUB_PREFIX.length);
  return `z${bs58.encode(bytes)}`;
}
