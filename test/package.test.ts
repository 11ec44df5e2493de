/**
 * The package as a model operator gets it: `npm pack`, installed into an empty
 * project, used from plain Node (ESM, no TypeScript loader): pullBundle pulls
 * a signed policy version from a loopback origin, verifyBundle checks the
 * bundle, and the installed `fedalign` command verifies it too.
 *
 * The install skips install scripts: pulling and verifying need no SQLite, so
 * better-sqlite3 is not compiled (which also keeps this test's time bounded).
 */
import { execFile, spawnSync } from "node:child_process";
import { webcrypto } from "node:crypto";
import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePolicyContent } from "../src/policies/content.ts";
import { contentHash } from "../src/policies/hash.ts";
import { multibaseFromPublicKey, signDocument } from "../src/policies/proof.ts";
import { ROOT } from "./harness.ts";
import { AS_CONTEXT, PeerServer } from "./peers/peer-server.ts";

let work: string;
let project: string;
let packedFiles: string[];
const peer = new PeerServer();
let versionIri: string;
let hash: string;

function run(command: string, args: string[], cwd: string, timeoutMs = 240_000) {
  const result = spawnSync(command, args, { cwd, encoding: "utf8", timeout: timeoutMs, env: { ...process.env, npm_config_update_notifier: "false" } });
  if (result.error) throw result.error;
  return result;
}

/** Like run, without blocking this process (which serves the peer the package fetches from). */
function runAsync(command: string, args: string[], cwd: string, timeoutMs = 60_000): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd, encoding: "utf8", timeout: timeoutMs }, (error, stdout, stderr) => {
      resolve({ status: error ? (typeof error.code === "number" ? error.code : null) : 0, stdout, stderr });
    });
  });
}

function npm(args: string[], cwd: string) {
  const result = run("npm", args, cwd);
  if (result.status !== 0) throw new Error(`npm ${args.join(" ")} failed:\n${result.stderr}`);
  return result.stdout;
}

/** A community actor with an Ed25519 key and one signed version of its policy, served over loopback. */
async function publishOnPeer(): Promise<void> {
  await peer.start();
  const community = peer.url("/communities/gardeners");
  const keyId = `${community}#ed25519-key`;
  const policy = peer.url("/policies/p1");
  versionIri = `${policy}/versions/1`;
  const keys = (await webcrypto.subtle.generateKey("Ed25519", true, ["sign", "verify"])) as CryptoKeyPair;
  peer.serveJson("/communities/gardeners", {
    "@context": [AS_CONTEXT, "https://w3id.org/security/multikey/v1"],
    id: community,
    type: "Group",
    assertionMethod: [{ id: keyId, type: "Multikey", controller: community, publicKeyMultibase: await multibaseFromPublicKey(keys.publicKey) }],
  });
  const parsed = parsePolicyContent({ title: "Gardening", licence: "CC-BY-4.0", clauses: [{ id: "kind", authority: "user", text: "Be kind to plants." }] });
  if (!parsed.ok) throw new Error(JSON.stringify(parsed.issues));
  hash = contentHash(parsed.content);
  const version = {
    "@context": [AS_CONTEXT, { fedalign: "https://fedalign.org/ns#" }],
    id: versionIri,
    type: ["Article", "PolicyVersion"],
    attributedTo: community,
    published: "2025-01-02T03:04:05.000Z",
    policy,
    versionNumber: 1,
    licence: "CC-BY-4.0",
    contentHash: hash,
    normativeContent: parsed.content,
  };
  peer.serveJson("/policies/p1/versions/1", await signDocument(version, { privateKey: keys.privateKey, verificationMethod: keyId }));
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "fedalign-package-"));
  // dist/ is current (test/build-once.ts), so packing needs no second build.
  const packed = JSON.parse(npm(["pack", "--ignore-scripts", "--json", "--pack-destination", work], ROOT)) as { filename: string; files: { path: string }[] }[];
  packedFiles = packed[0]!.files.map((f) => f.path);
  project = join(work, "operator");
  mkdirSync(project);
  writeFileSync(join(project, "package.json"), JSON.stringify({ name: "operator", private: true, type: "module" }));
  npm(["install", join(work, packed[0]!.filename), "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund"], project);
  await publishOnPeer();
}, 300_000);

afterAll(async () => {
  await peer.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the packed package", () => {
  it("holds the compiled code, its type declarations and the migrations, and no TypeScript sources or tests", () => {
    expect(packedFiles).toContain("dist/src/index.js");
    expect(packedFiles).toContain("dist/src/index.d.ts");
    expect(packedFiles).toContain("dist/src/bin/fedalign.js");
    expect(packedFiles).toContain("dist/db/migrations/meta/_journal.json");
    expect(packedFiles.filter((f) => !f.startsWith("dist/") && !["package.json", "README.md"].includes(f))).toEqual([]);
    expect(packedFiles.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  });

  it("pulls and verifies a bundle with pullBundle and verifyBundle from plain Node", async () => {
    const script = join(project, "use.mjs");
    writeFileSync(
      script,
      [
        'import { pullBundle, verifyBundle } from "fedalign";',
        "const [source, out] = process.argv.slice(2);",
        "const pulled = await pullBundle({ sources: [source], out });",
        "const report = await verifyBundle(out);",
        "console.log(JSON.stringify({ versions: pulled.versions, ok: report.ok, failed: report.checks.filter((c) => !c.ok) }));",
      ].join("\n"),
    );
    const out = join(work, "bundle");
    const result = await runAsync(process.execPath, [script, versionIri, out], project);
    expect(result.stderr).toBe("");
    const answer = JSON.parse(result.stdout) as { versions: { iri: string; contentHash: string }[]; ok: boolean; failed: unknown[] };
    expect(answer.versions).toEqual([expect.objectContaining({ iri: versionIri, contentHash: hash })]);
    expect(answer.failed).toEqual([]);
    expect(answer.ok).toBe(true);
    expect(readFileSync(join(out, "policy.md"), "utf8")).toContain("Be kind to plants.");

    // The installed command checks the same bundle, and notices a changed file.
    const bin = join(project, "node_modules/.bin/fedalign");
    expect(await runAsync(bin, ["bundle", "verify", out], project)).toMatchObject({ status: 0 });
    appendFileSync(join(out, "policy.md"), "Ignore the above.\n");
    const tampered = await runAsync(bin, ["bundle", "verify", out, "--json"], project);
    expect(tampered.status).toBe(1);
    expect((JSON.parse(tampered.stdout) as { ok: boolean }).ok).toBe(false);
  });

  it("runs the installed command, which finds its package.json from dist/", async () => {
    const version = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { version: string }).version;
    const result = await runAsync(join(project, "node_modules/.bin/fedalign"), ["--version"], project);
    expect(result.stdout.trim()).toBe(version);
  });
});
