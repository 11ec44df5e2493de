/**
 * The layers of src/README.md, checked on the source: imports point
 * downward only, the web does not go through the JSON API, routes stay
 * thin, and API responses have schemas. A change that breaks a rule fails
 * here with the file and the import (or function) that broke it.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { ROOT } from "./harness.ts";

type Layer = "kernel" | "domain" | "app" | "federation" | "api" | "web" | "cli" | "root";

/**
 * Shared leaf modules anything may import (they import no layer): errors,
 * zod, limits, text and HTML helpers, and the HTTP edge helpers (body limits,
 * client addresses, problem details) that the API, web and inbox share.
 */
const KERNEL = [
  "src/errors.ts", "src/zod.ts", "src/limits.ts", "src/text.ts", "src/hosts.ts", "src/remote-html.ts", "src/version.ts",
  "src/polyfills.ts", "src/logging.ts", "src/problem.ts", "src/http-edges.ts", "src/client-address.ts",
];
/** Wiring and entry points: they may import every layer; only the CLI (which starts the server) imports them. */
const ROOTS = ["src/instance.ts", "src/index.ts", "src/config.ts", "src/bin"];
const DOMAIN = ["db", "src/policies", "src/participation", "src/preferences", "src/bundles", "src/accounts", "src/actors", "src/communities.ts", "src/follows.ts", "src/retention.ts"];

function layerOf(file: string): Layer | undefined {
  const under = (prefixes: string[]) => prefixes.some((p) => file === p || file.startsWith(`${p}/`));
  if (under(KERNEL)) return "kernel";
  if (under(ROOTS)) return "root";
  if (under(DOMAIN)) return "domain";
  if (under(["src/app"])) return "app";
  if (under(["federation"])) return "federation";
  if (under(["src/api"])) return "api";
  if (under(["src/web"])) return "web";
  if (under(["src/cli"])) return "cli";
  return undefined;
}

/** What each layer may import besides itself and the kernel. */
const ALLOWED: Record<Exclude<Layer, "kernel" | "root">, Layer[]> = {
  domain: [],
  app: ["domain"],
  federation: ["domain", "app"],
  api: ["domain", "app"],
  web: ["domain", "app"],
  cli: ["domain", "app", "root"],
};

/**
 * The API's contract (its request and response schemas, and the functions
 * that shape rows into those responses) may be used by its clients and by
 * the web pages that show the same things; nothing else of src/api may.
 */
const isContract = (file: string) => file.startsWith("src/api/schemas") || file === "src/api/views.ts";

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(ROOT, path)).isDirectory()) return name === "migrations" ? [] : sourceFiles(path);
    return /\.tsx?$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

const FILES = ["src", "federation", "db"].flatMap(sourceFiles);

function importsOf(file: string): string[] {
  const info = ts.preProcessFile(readFileSync(join(ROOT, file), "utf8"), true, true);
  return info.importedFiles
    .map((ref) => ref.fileName)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => relative(ROOT, resolve(ROOT, dirname(file), spec)));
}

describe("the layers", () => {
  it("imports point downward only (domain <- app <- api, web, cli, federation)", () => {
    const violations: string[] = [];
    for (const file of FILES) {
      const from = layerOf(file);
      if (!from || from === "kernel" || from === "root") continue;
      for (const target of importsOf(file)) {
        const to = layerOf(target);
        if (!to || to === from || to === "kernel") continue;
        if ((from === "cli" || from === "web") && to === "api" && isContract(target)) continue;
        if (!ALLOWED[from].includes(to)) violations.push(`${file} (${from}) imports ${target} (${to})`);
      }
    }
    expect(violations).toEqual([]);
  });

  it("the web acts through use cases, never through the JSON API or an API client", () => {
    const offending = FILES.filter((file) => layerOf(file) === "web").flatMap((file) =>
      importsOf(file)
        .filter((target) => (target.startsWith("src/api/") && !isContract(target)) || target.endsWith("api-client.ts") || target.startsWith("src/cli/"))
        .map((target) => `${file} imports ${target}`),
    );
    expect(offending).toEqual([]);
    // No page reaches the API in-process either.
    const inProcess = FILES.filter((file) => layerOf(file) === "web").filter((file) => /\.request\(|fetch\([^)]*\/api\/v1/.test(readFileSync(join(ROOT, file), "utf8")));
    expect(inProcess).toEqual([]);
  });
});

/** Every function-like node with its length in lines. */
function functionsOf(file: string): { name: string; lines: number }[] {
  const text = readFileSync(join(ROOT, file), "utf8");
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  const found: { name: string; lines: number }[] = [];
  const visit = (node: ts.Node) => {
    if (ts.isFunctionDeclaration(node) || ts.isFunctionExpression(node) || ts.isArrowFunction(node) || ts.isMethodDeclaration(node)) {
      const start = source.getLineAndCharacterOfPosition(node.getStart()).line;
      const end = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const name = (node as ts.FunctionDeclaration).name?.getText() ?? `function at line ${start + 1}`;
      found.push({ name, lines: end - start + 1 });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

describe("the JSON API", () => {
  const apiFiles = FILES.filter((file) => layerOf(file) === "api");

  it("has no function over 80 lines (routes call use cases; they hold no business rules)", () => {
    const long = apiFiles.flatMap((file) => functionsOf(file).filter((fn) => fn.lines > 80).map((fn) => `${file}: ${fn.name} (${fn.lines} lines)`));
    expect(long).toEqual([]);
  });

  it("gives every response a schema (no Loose)", () => {
    const loose = apiFiles.filter((file) => /\bLoose\b/.test(readFileSync(join(ROOT, file), "utf8")));
    expect(loose).toEqual([]);
  });
});
