import { readFileSync } from "node:fs";

/** package.json, found from the sources (src/) and from the build (dist/src/) alike. */
function readPackageJson(): { name: string; version: string } {
  for (const path of ["../package.json", "../../package.json"]) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(path, import.meta.url), "utf8")) as { name?: string; version?: string };
      if (pkg.name === "fedalign" && pkg.version) return { name: pkg.name, version: pkg.version };
    } catch {
      // Not at this level; try the next.
    }
  }
  throw new Error("fedalign: package.json not found next to the sources or the build.");
}

const pkg = readPackageJson();

export const SOFTWARE_NAME = pkg.name;
export const SOFTWARE_VERSION = pkg.version;
export const SOFTWARE_REPOSITORY = "https://github.com/fedalign/fedalign";
