import { Temporal } from "../federation/temporal.ts";
import { webcrypto } from "node:crypto";
import { createProof, verifyProof } from "@fedify/fedify";
import { DataIntegrityProof, Multikey, Note } from "@fedify/vocab";
import bs58 from "bs58";
import { describe, expect, it } from "vitest";
import {
  formatCreated,
  multibaseFromPublicKey,
  proofVerificationMethod,
  publicKeyFromMultibase,
  signDocument,
  verifyDocument,
} from "../src/policies/proof.ts";

const KEY_ID = "https://example.org/communities/alpha#ed25519-key";
const CREATED = new Date("2025-03-04T05:06:07.890Z");

async function edPair(): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
}

/** Imports a Multikey Ed25519 secret key ("z3u2…": multicodec 0x8026 + 32-byte seed) as PKCS#8. */
async function privateKeyFromMultibase(multibase: string): Promise<CryptoKey> {
  const bytes = bs58.decode(multibase.slice(1));
  expect([bytes[0], bytes[1]]).toEqual([0x80, 0x26]);
  const pkcs8Prefix = Buffer.from("302e020100300506032b657004220420", "hex");
  return webcrypto.subtle.importKey("pkcs8", Buffer.concat([pkcs8Prefix, bytes.slice(2)]), "Ed25519", false, ["sign"]);
}

function sampleDocument(): Record<string, unknown> {
  return {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v1", { fedalign: "https://fedalign.org/ns#" }],
    id: "https://example.org/policies/p1/versions/2",
    type: ["Article", "PolicyVersion"],
    name: "Kind replies (version 2)",
    versionNumber: 2,
    previousVersion: null,
    normativeContent: { title: "Kind replies", clauses: [{ id: "c1", text: "Be kind — ¡sí! 日本語 😀" }] },
  };
}

// Test key pair and signed documents published with the W3C Data Integrity EdDSA
// Cryptosuites test vectors (w3c/vc-di-eddsa TestVectors/) and FEP-8b32's
// feature file; Ed25519 is deterministic, so signing must reproduce them exactly.
const VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2";
const VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq";

const W3C_SIGNED = {
  "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
  id: "urn:uuid:58172aac-d8ba-11ed-83dd-0b3aef56cc33",
  type: ["VerifiableCredential", "AlumniCredential"],
  name: "Alumni Credential",
  description: "A minimum viable example of an Alumni Credential.",
  issuer: "https://vc.example/issuers/5678",
  validFrom: "2023-01-01T00:00:00Z",
  credentialSubject: { id: "did:example:abcdefgh", alumniOf: "The School of Examples" },
  proof: {
    type: "DataIntegrityProof",
    cryptosuite: "eddsa-jcs-2022",
    created: "2023-02-24T23:36:38Z",
    verificationMethod:
      "did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2",
    proofPurpose: "assertionMethod",
    "@context": ["https://www.w3.org/ns/credentials/v2", "https://www.w3.org/ns/credentials/examples/v2"],
    proofValue: "z2HnFSSPPBzR36zdDgK8PbEHeXbR56YF24jwMpt3R1eHXQzJDMWS93FCzpvJpwTWd3GAVFuUfjoJdcnTMuVor51aX",
  },
};

const FEP_8B32_SIGNED = {
  "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v2"],
  id: "https://server.example/activities/1",
  type: "Create",
  actor: "https://server.example/users/alice",
  object: {
    id: "https://server.example/objects/1",
    type: "Note",
    attributedTo: "https://server.example/users/alice",
    content: "Hello world",
    location: { type: "Place", longitude: -71.184902, latitude: 25.273962 },
  },
  proof: {
    "@context": ["https://www.w3.org/ns/activitystreams", "https://w3id.org/security/data-integrity/v2"],
    type: "DataIntegrityProof",
    cryptosuite: "eddsa-jcs-2022",
    verificationMethod: "https://server.example/users/alice#ed25519-key",
    proofPurpose: "assertionMethod",
    proofValue: "z42ffGu6AUKPCFcFPiabmUvnGLPJzC7e4DGWC52NUasSSH37UMa9c58tdgVszUcZfytxa4fQ5TYHaJENCxUDe9SdL",
    created: "2023-02-24T23:36:38Z",
  },
};

describe("signDocument / verifyDocument", () => {
  it("signs and verifies, writing the proof configuration the spec describes", async () => {
    const { privateKey, publicKey } = await edPair();
    const doc = sampleDocument();
    const signed = await signDocument(doc, { privateKey, verificationMethod: KEY_ID, created: CREATED });
    expect(signed.proof).toMatchObject({
      "@context": doc["@context"],
      type: "DataIntegrityProof",
      cryptosuite: "eddsa-jcs-2022",
      verificationMethod: KEY_ID,
      proofPurpose: "assertionMethod",
      created: "2025-03-04T05:06:07Z",
    });
    expect((signed.proof as { proofValue: string }).proofValue).toMatch(/^z[1-9A-HJ-NP-Za-km-z]{86,88}$/);
    expect(doc).not.toHaveProperty("proof");
    expect(await verifyDocument(signed, publicKey)).toEqual({ ok: true });
    expect(proofVerificationMethod(signed)).toBe(KEY_ID);
  });

  it("survives a JSON round trip and reordering of keys", async () => {
    const { privateKey, publicKey } = await edPair();
    const signed = await signDocument(sampleDocument(), { privateKey, verificationMethod: KEY_ID });
    const reordered = reverseKeys(JSON.parse(JSON.stringify(signed))) as Record<string, unknown>;
    expect(Object.keys(reordered)[0]).toBe("proof");
    expect(await verifyDocument(reordered, publicKey)).toEqual({ ok: true });
  });

  it("signs documents without @context and then writes none into the proof", async () => {
    const { privateKey, publicKey } = await edPair();
    const signed = await signDocument({ hello: "world" }, { privateKey, verificationMethod: KEY_ID });
    expect(signed.proof).not.toHaveProperty("@context");
    expect(await verifyDocument(signed, publicKey)).toEqual({ ok: true });
  });

  it("fails when any field of the document changes", async () => {
    const { privateKey, publicKey } = await edPair();
    const signed = await signDocument(sampleDocument(), { privateKey, verificationMethod: KEY_ID });
    const tamperings: ((doc: Record<string, any>) => void)[] = [
      (d) => (d.name = "Kind replies (version 3)"),
      (d) => (d.versionNumber = 3),
      (d) => (d.previousVersion = "https://example.org/policies/p1/versions/1"),
      (d) => (d.normativeContent.clauses[0].text += " "),
      (d) => d.type.reverse(),
      (d) => (d["@context"][2].fedalign = "https://evil.example/ns#"),
      // The spec would accept a document context that merely starts with the proof's; we do not.
      (d) => d["@context"].push({ name: "https://evil.example/ns#name" }),
      (d) => (d.extra = true),
      (d) => delete d.previousVersion,
    ];
    for (const tamper of tamperings) {
      const copy = structuredClone(signed) as Record<string, any>;
      tamper(copy);
      const result = await verifyDocument(copy, publicKey);
      expect(result.ok, tamper.toString()).toBe(false);
    }
  });

  it("fails when any field of the proof changes, with a reason", async () => {
    const { privateKey, publicKey } = await edPair();
    const signed = await signDocument(sampleDocument(), { privateKey, verificationMethod: KEY_ID, created: CREATED });
    const cases: [(p: Record<string, any>) => void, RegExp][] = [
      [(p) => (p.created = "2025-03-04T05:06:08Z"), /signature mismatch/],
      [(p) => (p.verificationMethod = "https://evil.example/key"), /signature mismatch/],
      [(p) => (p.cryptosuite = "eddsa-rdfc-2022"), /wrong cryptosuite/],
      [(p) => (p.type = "Ed25519Signature2020"), /unsupported proof type/],
      [(p) => (p.proofPurpose = "authentication"), /wrong proofPurpose/],
      [(p) => (p.proofValue = p.proofValue.slice(1)), /bad proofValue encoding/],
      [(p) => (p.proofValue = `${p.proofValue.slice(0, -2)}0O`), /bad proofValue encoding/],
      [(p) => (p.proofValue = `z${bs58.encode(new Uint8Array(63))}`), /63 bytes/],
      [(p) => (p.proofValue = `z${bs58.encode(new Uint8Array(64))}`), /signature mismatch/],
      [(p) => (p["@context"] = ["https://www.w3.org/ns/activitystreams"]), /@context differs/],
      [(p) => (p["@context"] = ["https://evil.example/context"]), /@context differs/],
      [(p) => (p.created = "yesterday"), /created/],
      [(p) => (p.nonce = "extra field"), /signature mismatch/],
    ];
    for (const [tamper, reason] of cases) {
      const copy = structuredClone(signed) as Record<string, any>;
      tamper(copy.proof);
      const result = await verifyDocument(copy, publicKey);
      expect(result, tamper.toString()).toEqual({ ok: false, reason: expect.stringMatching(reason) });
    }
  });

  it("fails with another key, without a proof, or with a non-Ed25519 key", async () => {
    const { privateKey } = await edPair();
    const other = await edPair();
    const signed = await signDocument(sampleDocument(), { privateKey, verificationMethod: KEY_ID });
    expect(await verifyDocument(signed, other.publicKey)).toEqual({ ok: false, reason: expect.stringMatching(/signature mismatch/) });
    expect(await verifyDocument(sampleDocument(), other.publicKey)).toEqual({ ok: false, reason: "missing proof" });
    expect(await verifyDocument([], other.publicKey)).toEqual({ ok: false, reason: expect.stringMatching(/not a JSON object/) });
    const rsa = (await webcrypto.subtle.generateKey(
      { name: "RSASSA-PKCS1-v1_5", modulusLength: 1024, publicExponent: new Uint8Array([1, 0, 1]), hash: "SHA-256" },
      true,
      ["sign", "verify"],
    )) as CryptoKeyPair;
    expect(await verifyDocument(signed, rsa.publicKey)).toEqual({ ok: false, reason: expect.stringMatching(/not an Ed25519 key/) });
    await expect(signDocument({}, { privateKey: rsa.privateKey, verificationMethod: KEY_ID })).rejects.toThrow(/Ed25519/);
  });

  it("adds a second proof as a proof set, each verifiable on its own", async () => {
    const a = await edPair();
    const b = await edPair();
    const once = await signDocument(sampleDocument(), { privateKey: a.privateKey, verificationMethod: KEY_ID });
    const twice = await signDocument(once, { privateKey: b.privateKey, verificationMethod: `${KEY_ID}-b` });
    expect(Array.isArray(twice.proof)).toBe(true);
    expect(await verifyDocument(twice, a.publicKey)).toEqual({ ok: true });
    expect(await verifyDocument(twice, b.publicKey)).toEqual({ ok: true });
    expect(proofVerificationMethod(twice)).toBe(KEY_ID);
  });

  it("formats created to whole seconds", () => {
    expect(formatCreated(new Date("2025-01-02T03:04:05.999Z"))).toBe("2025-01-02T03:04:05Z");
  });
});

describe("published test vectors", () => {
  it("verifies and reproduces the W3C eddsa-jcs-2022 vector", async () => {
    const publicKey = await publicKeyFromMultibase(VECTOR_PUBLIC);
    expect(await verifyDocument(W3C_SIGNED, publicKey)).toEqual({ ok: true });
    const { proof, ...unsigned } = W3C_SIGNED;
    const signed = await signDocument(unsigned, {
      privateKey: await privateKeyFromMultibase(VECTOR_SECRET),
      verificationMethod: proof.verificationMethod,
      created: new Date(proof.created),
    });
    expect(signed.proof).toEqual(proof);
  });

  it("verifies and reproduces the FEP-8b32 vector", async () => {
    const publicKey = await publicKeyFromMultibase(VECTOR_PUBLIC);
    expect(await verifyDocument(FEP_8B32_SIGNED, publicKey)).toEqual({ ok: true });
    const { proof, ...unsigned } = FEP_8B32_SIGNED;
    const signed = await signDocument(unsigned, {
      privateKey: await privateKeyFromMultibase(VECTOR_SECRET),
      verificationMethod: proof.verificationMethod,
      created: new Date(proof.created),
    });
    expect(signed.proof).toEqual(proof);
  });

  it("verifies a proof that omits @context but hashed the document's (Fedify's form)", async () => {
    const { privateKey, publicKey } = await edPair();
    const signed = await signDocument(sampleDocument(), { privateKey, verificationMethod: KEY_ID });
    const { "@context": _context, ...proofWithoutContext } = signed.proof as unknown as Record<string, unknown>;
    expect(await verifyDocument({ ...signed, proof: proofWithoutContext }, publicKey)).toEqual({ ok: true });
  });
});

describe("Multikey", () => {
  it("round-trips an Ed25519 public key", async () => {
    const { publicKey } = await edPair();
    const multibase = await multibaseFromPublicKey(publicKey);
    expect(multibase).toMatch(/^z6Mk/);
    const back = await publicKeyFromMultibase(multibase);
    expect(await rawKey(back)).toEqual(await rawKey(publicKey));
  });

  it("rejects keys that are not Ed25519 Multikeys", async () => {
    await expect(publicKeyFromMultibase("u6Mk")).rejects.toThrow(/"z"/);
    await expect(publicKeyFromMultibase("z0OIl")).rejects.toThrow(/base58btc/);
    // The secret-key multicodec (0x8026) must not be taken for a public key.
    await expect(publicKeyFromMultibase(VECTOR_SECRET)).rejects.toThrow(/not an Ed25519 public key/);
    await expect(publicKeyFromMultibase(`z${bs58.encode(new Uint8Array([0xed, 0x01, 1, 2, 3]))}`)).rejects.toThrow(/32 bytes/);
  });

  it("agrees with the publicKeyMultibase Fedify writes into actor documents", async () => {
    const { publicKey } = await edPair();
    const multikey = new Multikey({ id: new URL(KEY_ID), controller: new URL("https://example.org/communities/alpha"), publicKey });
    const json = (await multikey.toJsonLd({ format: "compact" })) as { publicKeyMultibase: string };
    expect(json.publicKeyMultibase).toBe(await multibaseFromPublicKey(publicKey));
    expect(await rawKey(await publicKeyFromMultibase(json.publicKeyMultibase))).toEqual(await rawKey(publicKey));
    // And Fedify reads ours back to the same key.
    const parsed = await Multikey.fromJsonLd({ ...json, publicKeyMultibase: await multibaseFromPublicKey(publicKey) });
    expect(await rawKey(parsed.publicKey!)).toEqual(await rawKey(publicKey));
  });
});

describe("interoperability with Fedify's Object Integrity Proofs", () => {
  it("verifies a proof made by Fedify's createProof", async () => {
    const { privateKey, publicKey } = await edPair();
    const note = new Note({
      id: new URL("https://example.org/notes/1"),
      attribution: new URL("https://example.org/communities/alpha"),
      content: "Hello, <em>world</em>",
    });
    const proof = await createProof(note, privateKey, new URL(KEY_ID), { created: Temporal.Instant.from("2025-03-04T05:06:07Z") });
    const compact = (await note.toJsonLd({ format: "compact" })) as Record<string, unknown>;
    const proofJson = (await proof.toJsonLd({ format: "compact" })) as Record<string, unknown>;
    const { "@context": _context, ...embedded } = proofJson;
    const signed = { ...compact, proof: embedded };
    expect(await verifyDocument(signed, publicKey)).toEqual({ ok: true });
    expect(await verifyDocument({ ...signed, content: "Hello" }, publicKey)).toMatchObject({ ok: false });
  });

  it("makes proofs Fedify's verifyProof accepts", async () => {
    const { privateKey, publicKey } = await edPair();
    const note = new Note({ id: new URL("https://example.org/notes/2"), content: "Signed by Fedalign" });
    const compact = (await note.toJsonLd({ format: "compact" })) as Record<string, unknown>;
    const signed = await signDocument(compact, { privateKey, verificationMethod: KEY_ID, created: CREATED });
    const multikey = new Multikey({ id: new URL(KEY_ID), controller: new URL("https://example.org/communities/alpha"), publicKey });
    const keyDocument = await multikey.toJsonLd({ format: "compact" });
    const documentLoader = async (url: string) => {
      if (url !== KEY_ID) throw new Error(`unexpected fetch of ${url}`);
      return { contextUrl: null, documentUrl: url, document: keyDocument };
    };
    const proof = await DataIntegrityProof.fromJsonLd({ "@context": compact["@context"], ...(signed.proof as object) });
    const key = await verifyProof(signed, proof, { documentLoader });
    expect(key?.id?.href).toBe(KEY_ID);
    const tampered = await verifyProof({ ...signed, content: "Not signed" }, proof, { documentLoader });
    expect(tampered).toBeNull();
  });
});

function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).reverse().map(([k, v]) => [k, reverseKeys(v)]));
}

async function rawKey(key: CryptoKey): Promise<string> {
  return Buffer.from(await webcrypto.subtle.exportKey("raw", key)).toString("hex");
}
