/**
 * The `fedalign policy` commands end to end against a running instance,
 * with the real Model Spec: import, publish, edit, publish again, show,
 * diff, hash; and the HTML and ActivityPub views of what was published.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fetchAp, runCli } from "./harness.ts";
import { getUserByUsername } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

const MODEL_SPEC = fileURLToPath(new URL("./fixtures/model_spec/model_spec.md", import.meta.url));

let a: LocalInstance;
let token: string;
let work: string;
const cli = (args: string[]) => runCli(["--server", a.origin, "--token", token, ...args]);

beforeAll(async () => {
  a = await startLocalInstance();
  token = (await a.createUser("alice")).token;
  await createCommunity(a.instance.db, { handle: "openai", name: "Model Spec readers", steward: await getUserByUsername(a.instance.db, "alice") });
  work = mkdtempSync(join(tmpdir(), "fedalign-policy-cli-"));
});

afterAll(async () => {
  await a?.destroy();
  rmSync(work, { recursive: true, force: true });
});

describe("fedalign policy", () => {
  let ref: string;
  let v1: string;

  it("imports the Model Spec and prints the policy id, IRI and what was kept", async () => {
    const result = await cli(["policy", "import", "openai", MODEL_SPEC]);
    expect(result.code, result.stderr).toBe(0);
    const [first] = result.stdout.split("\n");
    const match = /^(\d+) (\S+)$/.exec(first!);
    expect(match?.[2]).toBe(`${a.origin}/actors/openai/policies/openai-model-spec`);
    ref = match![2]!;
    expect(result.stdout).toMatch(/Kept: .*59 clauses, 189 examples, 160 paired examples/);
    expect(result.stdout).toMatch(/Not mapped \(\d+\):/);
  });

  it("publishes a signed version and prints its IRI and hash", async () => {
    const result = await cli(["policy", "publish", ref, "--message", "Imported from the Model Spec."]);
    expect(result.code, result.stderr).toBe(0);
    const [iri, hash] = result.stdout.trim().split(" ");
    expect(iri).toBe(`${ref}/versions/1`);
    expect(hash).toMatch(/^sha256:[0-9a-f]{64}$/);
    v1 = iri!;

    const again = await cli(["policy", "publish", ref]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/Nothing to publish: the draft .* is identical to version 1/);
  });

  it("edits the draft, publishes v2 and shows the word-level diff", async () => {
    const draftFile = join(work, "draft.json");
    const draft = JSON.parse((await cli(["policy", "draft", "get", ref])).stdout) as { clauses: { id: string; text: string }[] };
    const clause = draft.clauses.find((c) => c.id === "letter_and_spirit")!;
    clause.text = clause.text.replace("underlying intent", "deeper intent");
    draft.clauses = draft.clauses.filter((c) => c.id !== "no_other_objectives");
    writeFileSync(draftFile, JSON.stringify(draft));
    const saved = await cli(["policy", "draft", "set", ref, draftFile]);
    expect(saved.code, saved.stderr).toBe(0);
    expect((await cli(["policy", "publish", ref])).code).toBe(0);

    const diff = await cli(["policy", "diff", ref, "1", "2"]);
    expect(diff.code, diff.stderr).toBe(0);
    expect(diff.stdout).toContain("letter_and_spirit");
    expect(diff.stdout).toContain("[-underlying-]{+deeper+}");
    expect(diff.stdout).toContain("no_other_objectives");

    const json = JSON.parse((await cli(["policy", "diff", ref, "v1", "v2", "--json"])).stdout);
    expect(json.clauses.removed.map((x: { id: string }) => x.id)).toEqual(["no_other_objectives"]);
    expect(json.clauses.edited.map((x: { id: string }) => x.id)).toEqual(["letter_and_spirit"]);
  });

  it("shows a policy and a version by IRI", async () => {
    const shown = await cli(["policy", "show", ref]);
    expect(shown.stdout).toContain("OpenAI Model Spec");
    expect(shown.stdout).toMatch(/v1 .*Imported from the Model Spec/);
    const version = JSON.parse((await cli(["policy", "show", v1, "--json"])).stdout);
    expect(version.number).toBe(1);
    expect(version.content.clauses).toHaveLength(59);
  });

  it("recomputes the content hash offline from the published document", async () => {
    const file = join(work, "v1.json");
    const document = await fetchAp<{ contentHash: string }>(v1);
    writeFileSync(file, JSON.stringify(document));
    const result = await runCli(["policy", "hash", file]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout.trim()).toBe(document.contentHash);

    const tampered = JSON.parse(readFileSync(file, "utf8"));
    tampered.normativeContent.clauses[0].text += " (edited)";
    writeFileSync(file, JSON.stringify(tampered));
    const bad = await runCli(["policy", "hash", file]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/does not match/);
  });

  it("serves readable HTML to browsers at the same IRIs", async () => {
    const page = await (await fetch(v1, { headers: { Accept: "text/html" } })).text();
    expect(page).toContain("Follow all applicable instructions");
    expect(page).not.toContain("<script");
    const policyPage = await (await fetch(ref, { headers: { Accept: "text/html" } })).text();
    expect(policyPage).toContain("Version 2");
  });

  it("lists the community's policies and a policy's versions as collections", async () => {
    const policies = await fetchAp<{ orderedItems: string[] }>(`${a.origin}/actors/openai/policies`);
    expect(policies.orderedItems).toEqual([ref]);
    const versions = await fetchAp<{ orderedItems: string[] }>(`${ref}/versions`);
    expect(versions.orderedItems).toEqual([`${ref}/versions/1`, `${ref}/versions/2`]);
    const policy = await fetchAp<{ type: string[]; headVersion: string }>(ref);
    expect(policy.type).toContain("Policy");
    expect(policy.headVersion).toBe(`${ref}/versions/2`);
  });

  it("explains a bad file in one line", async () => {
    const bad = join(work, "bad.json");
    writeFileSync(bad, JSON.stringify({ title: "x", licence: "MIT", clauses: [{ id: "a", authority: "sovereign", text: "" }] }));
    const result = await cli(["policy", "import", "openai", bad]);
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split("\n")).toHaveLength(1);
    expect(result.stderr).toMatch(/authority/);
  });
});
