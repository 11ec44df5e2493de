/**
 * `npm run demo`: three local instances on loopback, seeded with real public
 * data, showing what Fedalign does: a community imports the OpenAI Model
 * Spec, another the Ubuntu constitution; a third community follows, forks
 * and annotates; preference data is imported; a model operator pulls and
 * verifies a bundle. Then it keeps the instances running for you to browse
 * until Ctrl-C, and cleans up.
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { TEST_PASSWORD, runCli, startInstance, waitFor, type TestInstance } from "../test/harness.ts";
import { signInDetails, type DemoAccount } from "./demo-sign-in.ts";

/** The project's shared data when present, else the copies the tests ship. */
function dataFile(shared: string, fixture: string): string {
  const fromShared = fileURLToPath(new URL(`../../shared/data/${shared}`, import.meta.url));
  return existsSync(fromShared) ? fromShared : fileURLToPath(new URL(`../test/fixtures/${fixture}`, import.meta.url));
}

const MODEL_SPEC = dataFile("model_spec/model_spec.md", "model_spec/model_spec.md");
const UBUNTU = dataFile("constitutions/ubuntu.json", "constitutions/ubuntu.json");
const HH = dataFile("hh-rlhf/harmless-base-test.jsonl.gz", "hh-rlhf/harmless-base-test.jsonl.gz");

function step(text: string): void {
  process.stdout.write(`\n• ${text}\n`);
}

async function ok(result: Promise<{ code: number | null; stdout: string; stderr: string }>, what: string): Promise<string> {
  const done = await result;
  if (done.code !== 0) throw new Error(`${what} failed: ${done.stderr.trim()}`);
  return done.stdout.trim();
}

async function main(): Promise<void> {
  const instances: TestInstance[] = [];
  const work = mkdtempSync(join(tmpdir(), "fedalign-demo-"));
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    process.stdout.write("\nStopping the demo instances...\n");
    await Promise.all(instances.map((instance) => instance.destroy()));
    rmSync(work, { recursive: true, force: true });
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());

  step("Starting three instances on loopback");
  const [a, b, c] = await Promise.all([startInstance(), startInstance(), startInstance()]);
  instances.push(a!, b!, c!);
  const [alice, bea, carl] = await Promise.all([a!.createUser("alice", { admin: true }), b!.createUser("bea", { admin: true }), c!.createUser("carl", { admin: true })]);
  const accounts: DemoAccount[] = [
    { label: "A", origin: a!.origin, username: alice.username, role: "steward of the Model Spec readers" },
    { label: "B", origin: b!.origin, username: bea.username, role: "steward of the Ubuntu ethics circle" },
    { label: "C", origin: c!.origin, username: carl.username, role: "steward of the Riverside clinic" },
  ];
  process.stdout.write(`\n${signInDetails(accounts, TEST_PASSWORD)}`);
  const as = (instance: TestInstance, token: string, args: string[]) => runCli(["--server", instance.origin, "--token", token, ...args], { timeoutMs: 120_000 });
  await Promise.all([
    ok(a!.cli(["admin", "community", "create", "openai_readers", "--name", "Model Spec readers", "--steward", "alice", "--data", a!.dataDir]), "community"),
    ok(b!.cli(["admin", "community", "create", "ubuntu", "--name", "Ubuntu ethics circle", "--steward", "bea", "--data", b!.dataDir]), "community"),
    ok(c!.cli(["admin", "community", "create", "clinic", "--name", "Riverside clinic", "--steward", "carl", "--data", c!.dataDir]), "community"),
  ]);

  step("A imports the OpenAI Model Spec and publishes it; B imports the Ubuntu constitution");
  const spec = (await ok(as(a!, alice.token, ["policy", "import", "openai_readers", MODEL_SPEC]), "import")).split("\n");
  process.stdout.write(`  ${spec.slice(0, 2).join("\n  ")}\n`);
  const specIri = spec[0]!.split(" ")[1]!;
  const v1 = (await ok(as(a!, alice.token, ["policy", "publish", specIri, "--message", "Imported as our starting point."]), "publish")).split(" ")[0]!;
  const ubuntu = (await ok(as(b!, bea.token, ["policy", "import", "ubuntu", UBUNTU]), "import")).split("\n")[0]!.split(" ")[1]!;
  await ok(as(b!, bea.token, ["policy", "publish", ubuntu]), "publish");

  step("A's community imports the HH-RLHF sample as preference data for its policy (MIT: train and federate)");
  process.stdout.write(`  ${await ok(as(a!, alice.token, ["prefs", "import", "openai_readers", HH, "--format", "hh-rlhf", "--policy", specIri, "--licence", "MIT"]), "prefs import")}\n`);

  step("C's member follows A's policy; C's community forks it and annotates a clause");
  await ok(as(c!, carl.token, ["follow", specIri]), "follow");
  await waitFor(async () => (await c!.api<{ state: string }[]>("GET", "follows", { token: carl.token })).body[0]?.state === "accepted", { what: "the follow" });
  const fork = await ok(as(c!, carl.token, ["fork", v1, "--into", "clinic"]), "fork");
  process.stdout.write(`  fork: ${fork}\n`);
  const clause = `${v1}/clauses/letter_and_spirit`;
  await ok(as(c!, carl.token, ["annotate", clause, "--motivation", "question", "--text", "How does this apply when a patient's family gives the instructions?", "--quote", "underlying intent"]), "annotate");
  await waitFor(async () => (await a!.api<unknown[]>("GET", `annotations?target=${encodeURIComponent(clause)}`)).body.length > 0, { what: "the annotation to reach A" });

  step("A model operator pulls a bundle of both policies for a health context, with preference data, and verifies it offline");
  const bundleDir = join(work, "bundle");
  process.stdout.write(`  ${await ok(runCli(["bundle", "pull", specIri, "--source", ubuntu, "--context", "domain=health", "--with-preferences", "--out", bundleDir], { timeoutMs: 120_000 }), "bundle pull")}\n`);
  process.stdout.write(`  ${await ok(runCli(["bundle", "verify", bundleDir]), "bundle verify")}\n`);

  process.stdout.write(`
What to look at (the instances keep running until Ctrl-C):
  A  ${a!.origin}/                 the Model Spec policy: ${specIri}
  B  ${b!.origin}/                 the Ubuntu constitution: ${ubuntu}
  C  ${c!.origin}/                 the clinic's fork: ${fork.split(" ")[1] ?? fork}
  the annotation, as A lists it:   ${a!.origin}/api/v1/annotations?target=${encodeURIComponent(clause)}
  the bundle:                      ${bundleDir}
  the API of any instance:         ${a!.origin}/api/v1/openapi.json

${signInDetails(accounts, TEST_PASSWORD)}Press Ctrl-C to stop.
`);
  await new Promise(() => {});
}

main().catch(async (error) => {
  process.stderr.write(`demo: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
