/**
 * Fedalign as a library, for model operators' code: pull a bundle of
 * community policies (and consented preference data) from any Fedalign
 * instance, verify one offline, or compose policies yourself.
 *
 *   import { pullBundle, verifyBundle } from "fedalign";
 *   await pullBundle({ sources: ["https://care.example/actors/nurses/policies/care"], context: "domain=health", out: "bundle" });
 *   const report = await verifyBundle("bundle");
 *
 * On Node 20, load "fedalign/polyfills" first (Node 22+ needs nothing).
 */
export { pullBundle, type PullOptions, type PullResult } from "./bundles/pull.ts";
export { verifyBundle, type VerifyBundleOptions, type VerifyReport, type VerifyCheck } from "./bundles/verify.ts";
export { writeBundle, type BundleInput, type BundleManifest } from "./bundles/bundle.ts";
export { composePolicies, parseTargetContext, appliesTo, toMarkdown, toSystemPrompt, toPrinciples, type EffectivePolicy, type Source, type TargetContext } from "./bundles/compose.ts";
export { contentHash, canonicalJson } from "./policies/hash.ts";
export { verifyDocument, signDocument, publicKeyFromMultibase } from "./policies/proof.ts";
export { policyContentSchema, policyJsonSchema, type PolicyContent } from "./policies/content.ts";
