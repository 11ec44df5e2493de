/**
 * Key pairs of local actors. Every actor gets an RSA-2048 key for HTTP
 * signatures (what Mastodon uses; Fedify's default is RSA-4096, which signs
 * about ten times slower, and every delivery signs) and an Ed25519 key for
 * Object Integrity Proofs (FEP-8b32). Keys are kept in the database as JWK.
 */
import { webcrypto } from "node:crypto";
import type { KeyAlgorithm } from "../../db/schema.ts";

export interface GeneratedKey {
  algorithm: KeyAlgorithm;
  publicJwk: JsonWebKey;
  privateJwk: JsonWebKey;
}

const RSA_PARAMS: RsaHashedKeyGenParams = {
  name: "RSASSA-PKCS1-v1_5",
  modulusLength: 2048,
  publicExponent: new Uint8Array([1, 0, 1]),
  hash: "SHA-256",
};

async function exportPair(algorithm: KeyAlgorithm, pair: CryptoKeyPair): Promise<GeneratedKey> {
  return {
    algorithm,
    publicJwk: await webcrypto.subtle.exportKey("jwk", pair.publicKey),
    privateJwk: await webcrypto.subtle.exportKey("jwk", pair.privateKey),
  };
}

export async function generateActorKeys(): Promise<GeneratedKey[]> {
  const rsa = (await webcrypto.subtle.generateKey(RSA_PARAMS, true, ["sign", "verify"])) as CryptoKeyPair;
  const ed = (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  return [await exportPair("RSASSA-PKCS1-v1_5", rsa), await exportPair("Ed25519", ed)];
}

export async function importKeyPair(key: {
  algorithm: KeyAlgorithm;
  publicJwk: JsonWebKey;
  privateJwk: JsonWebKey;
}): Promise<CryptoKeyPair> {
  const params = key.algorithm === "Ed25519" ? "Ed25519" : { name: RSA_PARAMS.name, hash: "SHA-256" };
  return {
    publicKey: await webcrypto.subtle.importKey("jwk", key.publicJwk, params, true, ["verify"]),
    privateKey: await webcrypto.subtle.importKey("jwk", key.privateJwk, params, true, ["sign"]),
  };
}
