/**
 * FEP-8b32 integrity proofs (eddsa-jcs-2022) and Multikeys on node:crypto,
 * without Fedify, for test peers that must produce proofs a Fedify verifier
 * checks on its own terms.
 */
import { createHash, generateKeyPairSync, sign, type KeyObject } from "node:crypto";
import bs58 from "bs58";
import { canonicalJson } from "../../src/policies/hash.ts";

export const DATA_INTEGRITY_CONTEXT = "https://w3id.org/security/data-integrity/v1";
export const MULTIKEY_CONTEXT = "https://w3id.org/security/multikey/v1";

export interface Ed25519KeyPair {
  privateKey: KeyObject;
  /** `z` + base58btc of the multicodec-prefixed (0xed01) raw public key. */
  publicKeyMultibase: string;
}

export function generateEd25519KeyPair(): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync("ed25519");
  const raw = publicKey.export({ format: "jwk" }).x!;
  const bytes = Buffer.concat([Buffer.from([0xed, 0x01]), Buffer.from(raw, "base64url")]);
  return { privateKey, publicKeyMultibase: `z${bs58.encode(bytes)}` };
}

export function multikeyDocument(id: string, controller: string, key: Ed25519KeyPair): Record<string, unknown> {
  return { "@context": MULTIKEY_CONTEXT, id, type: "Multikey", controller, publicKeyMultibase: key.publicKeyMultibase };
}

function sha256(value: unknown): Buffer {
  return createHash("sha256").update(canonicalJson(value)).digest();
}

/** Returns the document with an eddsa-jcs-2022 `proof` by `verificationMethod`. */
export function attachProof(document: Record<string, unknown>, verificationMethod: string, key: Ed25519KeyPair): Record<string, unknown> {
  const config = {
    "@context": document["@context"],
    type: "DataIntegrityProof",
    cryptosuite: "eddsa-jcs-2022",
    verificationMethod,
    proofPurpose: "assertionMethod",
    created: new Date().toISOString().replace(/\.\d+Z$/, "Z"),
  };
  const signature = sign(null, Buffer.concat([sha256(config), sha256(document)]), key.privateKey);
  const { "@context": _context, ...proof } = config;
  return { ...document, proof: { ...proof, proofValue: `z${bs58.encode(signature)}` } };
}
