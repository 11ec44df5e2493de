// Runs before `npm test`: the web UI tests drive Debian's Chromium through
// playwright-core, which never downloads a browser. If Chromium is missing
// and this is a Debian-like machine where we may use apt-get (root, or sudo
// without a password), install it; otherwise say what to do.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

const explicit = process.env.CHROMIUM_PATH;
const path = explicit ?? "/usr/bin/chromium";
if (existsSync(path)) process.exit(0);
if (explicit) {
  console.error(`CHROMIUM_PATH=${explicit} does not exist.`);
  process.exit(1);
}

const hasAptGet = spawnSync("sh", ["-c", "command -v apt-get"]).status === 0;
const isRoot = typeof process.getuid === "function" && process.getuid() === 0;
const canSudo = !isRoot && spawnSync("sudo", ["-n", "true"]).status === 0;
if (!hasAptGet || (!isRoot && !canSudo)) {
  console.error(
    "The browser tests need Chromium at /usr/bin/chromium. Install Debian's package (apt-get install chromium),\n" +
      "or point CHROMIUM_PATH at a Chromium or Chrome binary, then run npm test again.",
  );
  process.exit(1);
}

const prefix = isRoot ? [] : ["sudo", "-n"];
const apt = (args) => {
  const [command, ...rest] = [...prefix, "apt-get", ...args];
  execFileSync(command, rest, { stdio: ["ignore", "ignore", "inherit"], env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" } });
};
console.error("Installing Debian's chromium package for the browser tests (once)…");
try {
  apt(["install", "-y", "--no-install-recommends", "chromium"]);
} catch {
  apt(["update"]);
  apt(["install", "-y", "--no-install-recommends", "chromium"]);
}
if (!existsSync(path)) {
  console.error("apt-get finished but /usr/bin/chromium is still missing.");
  process.exit(1);
}
