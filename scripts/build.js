#!/usr/bin/env node
// Compiles src/, federation/ and db/ to dist/ (JavaScript and .d.ts) and
// copies the migrations next to the code that applies them.
//   node scripts/build.js             always rebuild
//   node scripts/build.js --if-stale  only when a source file was added,
//                                     removed or changed since the last build
// The new build is written to a temporary folder and swapped in whole, so
// dist/ is never half-built and never mixes old and new files.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { cpSync, existsSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync, chmodSync } from "node:fs";
import { createRequire } from "node:module";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const DIST = join(ROOT, "dist");
const STAMP = ".build-stamp";
const INPUTS = ["src", "federation", "db", "tsconfig.json", "tsconfig.build.json", "package.json"];

function* files(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return yield [relative(ROOT, path), stat];
  for (const name of readdirSync(path).sort()) yield* files(join(path, name));
}

/** A digest of every input's path, size and modification time. */
function inputsDigest() {
  const hash = createHash("sha256");
  for (const input of INPUTS) {
    for (const [path, stat] of files(join(ROOT, input))) hash.update(`${path}\0${stat.size}\0${stat.mtimeMs}\n`);
  }
  return hash.digest("hex");
}

export function isStale() {
  const stampFile = join(DIST, STAMP);
  return !existsSync(stampFile) || readFileSync(stampFile, "utf8") !== inputsDigest();
}

export function build() {
  const digest = inputsDigest();
  const temporary = join(ROOT, `.dist-${process.pid}`);
  rmSync(temporary, { recursive: true, force: true });
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const run = spawnSync(process.execPath, [tsc, "-p", join(ROOT, "tsconfig.build.json"), "--outDir", temporary], { stdio: "inherit" });
  if (run.status !== 0) {
    rmSync(temporary, { recursive: true, force: true });
    throw new Error(`tsc failed (exit ${run.status ?? run.signal})`);
  }
  cpSync(join(ROOT, "db/migrations"), join(temporary, "db/migrations"), { recursive: true });
  cpSync(join(ROOT, "db/postgres/migrations"), join(temporary, "db/postgres/migrations"), { recursive: true });
  chmodSync(join(temporary, "src/bin/fedalign.js"), 0o755);
  writeFileSync(join(temporary, STAMP), digest);
  rmSync(DIST, { recursive: true, force: true });
  renameSync(temporary, DIST);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const ifStale = process.argv.includes("--if-stale");
  if (ifStale && !isStale()) process.exit(0);
  const started = Date.now();
  try {
    build();
  } catch (error) {
    process.stderr.write(`build: ${error.message}\n`);
    process.exit(1);
  }
  process.stderr.write(`build: dist/ compiled in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}
