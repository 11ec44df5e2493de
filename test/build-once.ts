/**
 * vitest globalSetup: the multi-instance tests run the compiled `fedalign`
 * (dist/), as users do. Rebuild it before any test when a source file changed,
 * so a stale build is never what gets tested, whether the run came from
 * `npm test` or from vitest directly.
 */
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export default function buildOnce(): void {
  const script = fileURLToPath(new URL("../scripts/build.js", import.meta.url));
  const run = spawnSync(process.execPath, [script, "--if-stale"], { stdio: "inherit" });
  if (run.status !== 0) throw new Error("Building dist/ failed; see the compiler's output above.");
}
