/** Signs policy version documents with the owning community's Ed25519 key. */
import type { DocumentSigner } from "../src/policies/publish.ts";
import { signDocument } from "../src/policies/proof.ts";
import type { FedCtx } from "./context.ts";

export async function communityProofKey(ctx: FedCtx, handle: string): Promise<{ keyId: URL; privateKey: CryptoKey; publicKey: CryptoKey }> {
  const pairs = await ctx.getActorKeyPairs(handle);
  const ed25519 = pairs.find((pair) => pair.privateKey.algorithm.name === "Ed25519");
  if (!ed25519) throw new Error(`Community ${handle} has no Ed25519 key.`);
  // Proofs name the key as the actor document lists it under assertionMethod
  // (the Multikey id, "#multikey-2"), not the CryptographicKey id ("#key-2").
  const keyId = ed25519.multikey.id ?? ed25519.keyId;
  return { keyId, privateKey: ed25519.privateKey, publicKey: ed25519.publicKey };
}

export function communitySigner(ctx: FedCtx, handle: string): DocumentSigner {
  return async (document) => {
    const key = await communityProofKey(ctx, handle);
    return signDocument(document, { privateKey: key.privateKey, verificationMethod: key.keyId.href });
  };
}
