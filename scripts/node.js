#!/usr/bin/env node
// Runs a Node script with the flags Fedalign needs: on Node 20 and 21,
// --harmony-json-parse-with-source (see README, "Node 20"); TypeScript through
// tsx when --tsx is given. Used by the npm scripts so that they also work on
// Node 22+, where the JSON flag is unnecessary.
//   node scripts/node.js [--tsx] <script> [args...]
import { spawn } from "node:child_process";

const args = process.argv.slice(2);
const flags = [];
if (Number(process.versions.node.split(".")[0]) < 22) flags.push("--harmony-json-parse-with-source");
if (args[0] === "--tsx") {
  args.shift();
  flags.push("--import", "tsx");
}
const child = spawn(process.execPath, [...flags, ...args], { stdio: "inherit" });
for (const signal of ["SIGINT", "SIGTERM"]) process.on(signal, () => child.kill(signal));
child.on("exit", (code, signal) => process.exit(signal ? 1 : (code ?? 1)));
