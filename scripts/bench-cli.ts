/**
 * How long the `fedalign` command takes to start, as a user runs it (the
 * compiled CLI, plain `node`, no flags), next to a bare `node -e 0` measured
 * in the same rounds: `--help`, a member command (`whoami`) against a running
 * server, and `serve` until it answers HTTP (on an existing data directory).
 * Prints each median, its ratio to `node -e 0`, and the targets: --help at
 * most 4x, the member command at most 8x.
 *   node scripts/node.js --tsx scripts/bench-cli.ts [--runs 7]
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { BIN, ROOT, freePort, startInstance } from "../test/harness.ts";

const { values: args } = parseArgs({ options: { runs: { type: "string", default: "7" } } });
const RUNS = Number(args.runs);

function seconds(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

function timeCommand(argv: string[], env: Record<string, string> = {}): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, argv, { cwd: ROOT, env: { ...process.env, ...env }, encoding: "utf8" });
  const elapsed = seconds(start);
  if (result.status !== 0) throw new Error(`${argv.join(" ")} failed: ${result.stderr}`);
  return elapsed;
}

/** `fedalign serve` from spawn until GET /api/v1/registration answers 200; then stopped. */
async function timeServe(dataDir: string): Promise<number> {
  const port = await freePort();
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, "serve", "--port", String(port), "--host", "127.0.0.1", "--data", dataDir, "--log-level", "error"], { cwd: ROOT, stdio: "ignore" });
  try {
    for (let attempt = 0; attempt < 3000; attempt++) {
      try {
        const response = await fetch(`http://127.0.0.1:${port}/api/v1/registration`);
        if (response.ok) return seconds(start);
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    throw new Error("serve did not answer within 15 s");
  } finally {
    const exited = new Promise((resolve) => child.once("exit", resolve));
    child.kill("SIGTERM");
    await exited;
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.js"), "--if-stale"], { stdio: "inherit" });
  if (build.status !== 0) throw new Error("build failed");
  const server = await startInstance({ extraArgs: ["--log-level", "error"] });
  const dataDir = mkdtempSync(join(tmpdir(), "fedalign-bench-cli-"));
  try {
    const { token } = await server.createUser("bench", { admin: true });
    const member = { FEDALIGN_SERVER: server.origin, FEDALIGN_TOKEN: token };
    await timeServe(dataDir); // first start creates and migrates the database; not counted
    const samples: Record<string, number[]> = { "node -e 0": [], "fedalign --help": [], "fedalign whoami": [], "fedalign serve (until it answers)": [] };
    for (let round = 0; round < RUNS; round++) {
      // Interleaved, so the machine's noise falls on every command alike.
      samples["node -e 0"]!.push(timeCommand(["-e", "0"]));
      samples["fedalign --help"]!.push(timeCommand([BIN, "--help"]));
      samples["fedalign whoami"]!.push(timeCommand([BIN, "whoami"], member));
      samples["fedalign serve (until it answers)"]!.push(await timeServe(dataDir));
    }
    const baseline = median(samples["node -e 0"]!);
    const targets: Record<string, number> = { "fedalign --help": 4, "fedalign whoami": 8 };
    console.log(`node ${process.version}, ${RUNS} runs each, medians:`);
    for (const [name, values] of Object.entries(samples)) {
      const m = median(values);
      const ratio = m / baseline;
      const target = targets[name];
      const verdict = target === undefined ? "" : ratio <= target ? `  (target <= ${target}x: met)` : `  (target <= ${target}x: MISSED)`;
      console.log(`  ${name.padEnd(36)} ${m.toFixed(3)} s  ${ratio.toFixed(1)}x${verdict}`);
    }
  } finally {
    await server.stop();
    await server.destroy();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

await main();
