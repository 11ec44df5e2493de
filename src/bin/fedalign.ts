#!/usr/bin/env node
/**
 * The `fedalign` command's entry point. It loads only the CLI's command
 * table; each command imports what it uses when it runs.
 *
 * On Node 20, `serve` must start with --harmony-json-parse-with-source (see
 * README, "Node 20"); the flag cannot be set at run time or in NODE_OPTIONS,
 * so the launcher re-runs itself once with it. Other commands, and every
 * command on Node 22 and later, run in this one process.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { JSON_FLAG, needsJsonFlagRelaunch } from "../cli/launch.ts";

const argv = process.argv.slice(2);

function relaunchWithJsonFlag(): void {
  const child = spawn(process.execPath, [...process.execArgv, JSON_FLAG, fileURLToPath(import.meta.url), ...argv], {
    // The IPC channel lets the child notice if this launcher is killed (even by SIGKILL).
    stdio: ["inherit", "inherit", "inherit", "ipc"],
  });
  // Forward termination signals so `kill <pid>` on the launcher stops the server cleanly.
  const forwarded = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
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
}

if (needsJsonFlagRelaunch(argv)) {
  relaunchWithJsonFlag();
} else {
  // Started by the launcher above: exit with it rather than linger as an orphan.
  if (process.send) {
    process.on("disconnect", () => process.exit(1));
    process.channel?.unref();
  }
  const { main } = await import("../cli/main.ts");
  await main(argv);
}
