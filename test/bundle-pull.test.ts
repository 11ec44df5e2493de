/**
 * A model operator pulls a bundle from two real instances (no instance of
 * their own), verifies it offline, and gets exactly the consented data;
 * tampering with any file, proof or the manifest is caught and named.
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startInstance, type TestInstance } from "./harness.ts";

let a: TestInstance;
let b: TestInstance;
let work: string;
let careIri: string;
let schoolIri: string;

const CARE = {
  title: "Care",
  licence: "CC-BY-4.0",
  contexts: [{ domain: ["health"] }],
  clauses: [
    { id: "escalate", authority: "root", text: "Send emergencies to human clinicians." },
    { id: "portuguese", authority: "user", text: "Answer in Portuguese.", context: { locale: ["pt"] } },
    { id: "swahili", authority: "user", text: "Answer in Swahili.", context: { locale: ["sw"] } },
    { id: "tone", authority: "guideline", text: "Be warm." },
  ],
};
const SCHOOL = {
  title: "School",
  licence: "CC0-1.0",
  clauses: [
    { id: "tone", authority: "guideline", text: "Be brief and encouraging." },
    { id: "privacy", authority: "system", text: "Never ask for a student's address." },
    { id: "grading", authority: "developer", text: "Do not grade homework.", context: { domain: ["education"] } },
  ],
};

async function publish(instance: TestInstance, token: string, community: string, slug: string, content: unknown): Promise<{ id: number; iri: string }> {
  const created = await instance.api<{ id: number; iri: string }>("POST", "policies", { token, body: { community, slug, content } });
  await instance.api("POST", `policies/${created.body.id}/publish`, { token, body: {} });
  return created.body;
}

beforeAll(async () => {
  [a, b] = await Promise.all([startInstance(), startInstance()]);
  const [alice, bea] = await Promise.all([a.createUser("alice"), b.createUser("bea")]);
  await Promise.all([
    a.cli(["admin", "community", "create", "nurses", "--name", "Nurses", "--steward", "alice", "--data", a.dataDir]),
    b.cli(["admin", "community", "create", "teachers", "--name", "Teachers", "--steward", "bea", "--data", b.dataDir]),
  ]);
  const care = await publish(a, alice.token, "nurses", "care", CARE);
  careIri = care.iri;
  schoolIri = (await publish(b, bea.token, "teachers", "school", SCHOOL)).iri;
  work = mkdtempSync(join(tmpdir(), "fedalign-bundle-"));
  const line = (n: number) => JSON.stringify({ prompt: `Bundle question ${n}?`, chosen: `Good ${n}.`, rejected: `Bad ${n}.` });
  writeFileSync(join(work, "trainable.trl.jsonl"), [line(1), line(2)].join("\n"));
  writeFileSync(join(work, "no-train.trl.jsonl"), JSON.stringify({ prompt: "Not for training?", chosen: "Yes.", rejected: "No." }));
  const cli = (args: string[]) => runCli(["--server", a.origin, "--token", alice.token, ...args]);
  expect((await cli(["prefs", "import", "nurses", join(work, "trainable.trl.jsonl"), "--policy", String(care.id), "--consent", "train,federate"])).code).toBe(0);
  expect((await cli(["prefs", "import", "nurses", join(work, "no-train.trl.jsonl"), "--policy", String(care.id), "--consent", "federate"])).code).toBe(0);
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
  rmSync(work, { recursive: true, force: true });
});

const pull = (out: string) =>
  runCli(["bundle", "pull", careIri, "--source", schoolIri, "--context", "domain=health,locale=pt-BR", "--with-preferences", "--out", out, "--json"], { timeoutMs: 60_000 });

describe("bundle pull", () => {
  let dir: string;

  it("composes the applicable clauses of both policies, with conflicts and provenance", async () => {
    dir = join(work, "bundle");
    const result = await pull(dir);
    expect(result.code, result.stderr).toBe(0);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest.sources.map((s: { policy: string }) => s.policy)).toEqual([careIri, schoolIri]);
    expect(manifest.counts.clauses).toBe(5); // escalate, portuguese, tone (care), tone (school, differs), privacy
    const markdown = readFileSync(join(dir, "policy.md"), "utf8");
    expect(markdown).toContain("Answer in Portuguese.");
    expect(markdown).not.toContain("Answer in Swahili.");
    expect(markdown).not.toContain("Do not grade homework.");
    expect(markdown).toMatch(/## Conflicts[\s\S]*tone/);
    const prompt = readFileSync(join(dir, "system-prompt.txt"), "utf8");
    expect(prompt.indexOf("Send emergencies")).toBeLessThan(prompt.indexOf("Never ask for a student"));
    const principles = JSON.parse(readFileSync(join(dir, "principles.json"), "utf8")) as { principle: string }[];
    expect(principles.every((p) => p.principle.startsWith("Choose the response"))).toBe(true);
  });

  it("holds only records whose raters allowed training, in both formats", () => {
    const trl = readFileSync(join(dir, "preferences.trl.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    const openai = readFileSync(join(dir, "preferences.openai.jsonl"), "utf8").split("\n").filter(Boolean).map((l) => JSON.parse(l));
    expect(trl).toHaveLength(2);
    expect(openai).toHaveLength(2);
    for (const line of trl) expect(Object.keys(line)).toEqual(["prompt", "chosen", "rejected"]);
    for (const line of openai) expect(Object.keys(line)).toEqual(["input", "preferred_output", "non_preferred_output"]);
    expect(readFileSync(join(dir, "preferences.trl.jsonl"), "utf8")).not.toContain("Not for training");
    expect(readFileSync(join(dir, "README.md"), "utf8")).toMatch(/^---\n[\s\S]*license:/);
  });

  it("verifies offline, and two pulls of the same inputs are byte-identical", async () => {
    const verified = await runCli(["bundle", "verify", dir]);
    expect(verified.code, verified.stdout + verified.stderr).toBe(0);
    expect(verified.stdout).toMatch(/^OK: \d+ checks passed/m);
    const again = join(work, "again");
    expect((await pull(again)).code).toBe(0);
    const files = (root: string) => readdirSync(root, { recursive: true }).map(String).filter((f) => !f.endsWith("sources")).sort();
    expect(files(again)).toEqual(files(dir));
    for (const file of files(dir)) {
      if (file === "sources") continue;
      expect(readFileSync(join(again, file)).equals(readFileSync(join(dir, file))), file).toBe(true);
    }
  });

  it("names the file when one byte of it changes", async () => {
    for (const file of ["policy.md", "preferences.trl.jsonl", "system-prompt.txt", "principles.json"]) {
      const copy = join(work, `tamper-${file}`);
      expect((await pull(copy)).code).toBe(0);
      const bytes = readFileSync(join(copy, file));
      bytes[10] = bytes[10]! ^ 1;
      writeFileSync(join(copy, file), bytes);
      const result = await runCli(["bundle", "verify", copy]);
      expect(result.code).toBe(1);
      expect(result.stdout).toContain(`FAIL file ${file}`);
    }
  });

  it("catches an altered proof and an altered manifest", async () => {
    const proofCopy = join(work, "tamper-proof");
    expect((await pull(proofCopy)).code).toBe(0);
    const sourceFile = join(proofCopy, "sources", "1.json");
    const doc = JSON.parse(readFileSync(sourceFile, "utf8"));
    doc.proof.proofValue = doc.proof.proofValue.slice(0, -2) + (doc.proof.proofValue.endsWith("a") ? "bb" : "aa");
    writeFileSync(sourceFile, JSON.stringify(doc, null, 2) + "\n");
    const proofResult = await runCli(["bundle", "verify", proofCopy]);
    expect(proofResult.code).toBe(1);
    expect(proofResult.stdout).toMatch(/FAIL .*sources\/1\.json/);

    const manifestCopy = join(work, "tamper-manifest");
    expect((await pull(manifestCopy)).code).toBe(0);
    const manifest = JSON.parse(readFileSync(join(manifestCopy, "manifest.json"), "utf8"));
    manifest.sources[0].contentHash = `sha256:${"0".repeat(64)}`;
    writeFileSync(join(manifestCopy, "manifest.json"), JSON.stringify(manifest) + "\n");
    const manifestResult = await runCli(["bundle", "verify", manifestCopy]);
    expect(manifestResult.code).toBe(1);
    expect(manifestResult.stdout).toMatch(/FAIL/);
  });

  it("explains a version that does not exist, in one line", async () => {
    const result = await runCli(["bundle", "pull", `${careIri}/versions/9`, "--out", join(work, "missing")]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/answered 404/);
  });
});

describe("bundle export by an instance", () => {
  it("is a .tar.gz whose manifest the instance signed, verifiable online", async () => {
    const file = join(work, "export.tar.gz");
    const exported = await runCli(["--server", a.origin, "bundle", "export", careIri, "--context", "domain=health", "--with-preferences", "--out", file]);
    expect(exported.code, exported.stderr).toBe(0);
    const dir = join(work, "exported");
    mkdirSync(dir, { recursive: true });
    execFileSync("tar", ["-xzf", file, "-C", dir]);
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8"));
    expect(manifest.proof.verificationMethod).toBe(`${a.origin}/actors/instance#multikey-2`);
    const online = await runCli(["bundle", "verify", dir, "--online", "--json"]);
    expect(online.code, online.stdout).toBe(0);
    const report = JSON.parse(online.stdout) as { checks: { what: string; ok: boolean; detail: string }[] };
    const manifestProof = report.checks.find((check) => check.what === "manifest proof")!;
    expect(manifestProof.ok).toBe(true);
    expect(manifestProof.detail).not.toMatch(/no key/);
    expect(readFileSync(join(dir, "preferences.trl.jsonl"), "utf8").split("\n").filter(Boolean)).toHaveLength(2);
  });
});
