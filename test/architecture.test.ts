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

/**
 * The database is reached asynchronously and in a form every dialect has
 * (issue 19): no `.get()/.all()/.run()/.values()` on a drizzle query (the
 * PostgreSQL driver has none of them; `await query`, `first(query)` and
 * `.returning()` are the portable forms), and the better-sqlite3 handle
 * (`$client.raw`) only in the SQLite-specific modules, always inside
 * `$client.exclusive(...)` so it never runs inside another flow's transaction.
 */
describe("database access", () => {
  /** The modules that are SQLite-specific by nature (see ASYNC conventions): they may use the raw handle. */
  const RAW_ALLOWED = [
    "federation/kv-store.ts",
    "federation/message-queue.ts",
    "federation/preference-datasets.ts",
    "src/preferences/store.ts",
    "src/policies/search.ts",
  ];
  /** Methods of drizzle's query builders: a chain through one of them is a query. */
  const BUILDER = new Set([
    "select", "selectDistinct", "insert", "update", "delete", "from", "where", "set", "values", "returning", "orderBy",
    "limit", "offset", "groupBy", "having", "innerJoin", "leftJoin", "rightJoin", "fullJoin", "onConflictDoNothing", "onConflictDoUpdate",
  ]);
  const SYNC_RUNNERS = new Set(["get", "all", "run", "values"]);
  const queryFiles = FILES.filter((file) => file.startsWith("src/") || file.startsWith("federation/"));

  function sourceOf(file: string): ts.SourceFile {
    const text = readFileSync(join(ROOT, file), "utf8");
    return ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith(".tsx") ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
  }

  /** True when the chain under `node` (a.b().c().d) calls a query-builder method. */
  function isQueryChain(node: ts.Expression): boolean {
    let current: ts.Expression = node;
    for (;;) {
      if (ts.isCallExpression(current)) {
        const callee = current.expression;
        if (ts.isPropertyAccessExpression(callee) && BUILDER.has(callee.name.text)) return true;
        current = callee;
      } else if (ts.isPropertyAccessExpression(current) || ts.isNonNullExpression(current) || ts.isParenthesizedExpression(current)) {
        current = current.expression;
      } else {
        return false;
      }
    }
  }

  /** A drizzle database or transaction handle, as the code names it: db, tx, ctx.db, this.db, instance.db… */
  const isDbHandle = (node: ts.Expression) => /^(?:db|tx|(?:[\w$]+\.)+db)$/.test(node.getText());

  function violationsOf(file: string): string[] {
    const source = sourceOf(file);
    const found: string[] = [];
    const where = (node: ts.Node) => `${file}:${source.getLineAndCharacterOfPosition(node.getStart()).line + 1}`;
    const visit = (node: ts.Node) => {
      if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && SYNC_RUNNERS.has(node.expression.name.text)) {
        const receiver = node.expression.expression;
        const method = node.expression.name.text;
        if (node.arguments.length === 0 && isQueryChain(receiver)) found.push(`${where(node)}: .${method}() on a drizzle query`);
        // db.run(sql`…`), db.all(sql`…`): SQLite-only runners of the database object (fine where SQLite is the point).
        else if (node.arguments.length > 0 && isDbHandle(receiver) && !RAW_ALLOWED.includes(file)) found.push(`${where(node)}: ${receiver.getText()}.${method}(…) (SQLite-only)`);
      }
      if (ts.isPropertyAccessExpression(node) && node.name.text === "raw" && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === "$client") {
        if (!RAW_ALLOWED.includes(file)) found.push(`${where(node)}: $client.raw outside the SQLite-specific modules`);
        else if (!insideExclusive(node)) found.push(`${where(node)}: $client.raw outside $client.exclusive(…)`);
      }
      ts.forEachChild(node, visit);
    };
    visit(source);
    return found;
  }

  /**
   * Whether `node` is inside a function passed to `….exclusive(…)`, or in a
   * constructor (which prepares statements once; preparing runs nothing).
   */
  function insideExclusive(node: ts.Node): boolean {
    for (let current = node.parent; current; current = current.parent) {
      if (ts.isConstructorDeclaration(current)) return true;
      if (ts.isCallExpression(current) && ts.isPropertyAccessExpression(current.expression) && current.expression.name.text === "exclusive") {
        return current.arguments.some((argument) => argument.pos <= node.pos && node.end <= argument.end);
      }
    }
    return false;
  }

  it("runs no query with .get(), .all(), .run() or .values() (they do not exist on PostgreSQL)", () => {
    const found = queryFiles.flatMap(violationsOf).filter((line) => !line.includes("$client.raw"));
    expect(found).toEqual([]);
  });

  it("touches the raw SQLite handle only in the SQLite-specific modules, inside $client.exclusive", () => {
    const found = queryFiles.flatMap(violationsOf).filter((line) => line.includes("$client.raw"));
    expect(found).toEqual([]);
  });

  it("would catch each of those (the checks are not blind)", () => {
    const probe = (code: string, file = "src/probe.ts") => {
      const source = ts.createSourceFile(file, code, ts.ScriptTarget.Latest, true);
      const found: string[] = [];
      const visit = (node: ts.Node) => {
        if (ts.isCallExpression(node) && ts.isPropertyAccessExpression(node.expression) && SYNC_RUNNERS.has(node.expression.name.text)) {
          const receiver = node.expression.expression;
          if (node.arguments.length === 0 && isQueryChain(receiver)) found.push(node.expression.name.text);
          else if (node.arguments.length > 0 && isDbHandle(receiver)) found.push(`db.${node.expression.name.text}`);
        }
        if (ts.isPropertyAccessExpression(node) && node.name.text === "raw" && ts.isPropertyAccessExpression(node.expression) && node.expression.name.text === "$client") {
          found.push(insideExclusive(node) ? "raw-exclusive" : "raw");
        }
        ts.forEachChild(node, visit);
      };
      visit(source);
      return found;
    };
    expect(probe("db.select().from(t).where(x).get();")).toEqual(["get"]);
    expect(probe("const rows = tx.select().from(t).all();")).toEqual(["all"]);
    expect(probe("ctx.db.insert(t).values({ a: 1 }).run();")).toEqual(["run"]);
    expect(probe("db.select({ a: t.a }).from(t).values();")).toEqual(["values"]);
    expect(probe("db.run(sql`DELETE FROM t`);")).toEqual(["db.run"]);
    expect(probe("db.$client.raw.prepare('SELECT 1').get();")).toEqual(["raw"]);
    expect(probe("await db.$client.exclusive(() => db.$client.raw.prepare('SELECT 1').get());")).toEqual(["raw-exclusive"]);
    expect(probe("await db.$client.exclusive(noop); db.$client.raw.exec('DELETE FROM t');")).toEqual(["raw"]);
    // Not queries: a Map, a URLSearchParams, an awaited query.
    expect(probe("new Map().values(); params.get('a'); map.get(k); await first(db.select().from(t).limit(1));")).toEqual([]);
  });
});
