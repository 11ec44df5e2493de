#!/usr/bin/env node
// Launcher for the `fedalign` command. Plain JavaScript so it runs before any
// TypeScript loader. On Node 20 the process must start with
// --harmony-json-parse-with-source (see README, "Why the JSON flag"): without
// it, Fedify's jsonld dependency swaps in a JSON.stringify about 10 times
// slower. The flag cannot be set at run time or in NODE_OPTIONS, so when it is
// missing we re-run ourselves once with it.
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { register } from "tsx/esm/api";

const JSON_FLAG = "--harmony-json-parse-with-source";
const major = Number(process.versions.node.split(".")[0]);

if (major < 22 && !process.execArgv.includes(JSON_FLAG)) {
  const child = spawn(
    process.execPath,
    [...process.execArgv, JSON_FLAG, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    // The IPC channel lets the child notice if this launcher is killed (even by SIGKILL).
    { stdio: ["inherit", "inherit", "inherit", "ipc"] },
  );
  // Forward termination signals so `kill <pid>` on the launcher stops the server cleanly.
  const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"];
  for (const signal of forwarded) process.on(signal, () => child.kill(signal));
  child.on("exit", (code, signal) => {
    if (signal) {
      // Die of the same signal, so callers see what happened to the server.
      for (const s of forwarded) process.removeAllListeners(s);
      process.kill(process.pid, signal);
    } else {
      process.exit(code ?? 1);
    }
  });
} else {
  // Started by the launcher above: exit with it rather than linger as an orphan.
  if (process.send) {
    process.on("disconnect", () => process.exit(1));
    process.channel?.unref();
  }
  // Load TypeScript sources through tsx, then hand over to the CLI.
  register();
  await import("../polyfills.ts");
  const { main } = await import("../cli/main.ts");
  await main(process.argv.slice(2));
}
