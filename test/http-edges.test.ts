/**
 * Issue 12, item 7: HTTP edges. Every route of an instance, API, web pages
 * and ActivityPub alike, is tried with control characters in its path, its
 * query and its form fields, and with an oversized body; and a real server
 * (listening as `fedalign serve` does, configured from the same environment
 * variables) is tried with a client that never finishes its headers and with
 * more connections than it allows.
 */
import { mkdtempSync } from "node:fs";
import { connect, type Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../src/accounts/tokens.ts";
import { createUser } from "../src/accounts/users.ts";
import { createCommunity } from "../src/communities.ts";
import { BODY_LIMIT_BYTES, IMPORT_BODY_LIMIT_BYTES } from "../src/http-edges.ts";
import { openInstance, type Instance } from "../src/instance.ts";
import { cleanupDir, rawSql, waitFor } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

const ORIGIN = "http://127.0.0.1:9";
const CRLF = "x\r\nX-Injected: 1";
/** Field names the forms and API bodies of this instance use. */
const FIELDS = [
  "username", "password", "handle", "name", "slug", "title", "next", "target", "community", "summary", "body", "text",
  "label", "format", "policy", "version", "clause", "motivation", "consent", "groups", "choice", "as", "q", "code",
  "displayName", "source", "mode", "message", "reason", "url", "iri", "answer", "invite", "role",
];

let instance: Instance;
let dataDir: string;
let token: string;
let session: { cookie: string; csrf: string };

function cookiesOf(response: Response): string {
  return response.headers.getSetCookie().map((header) => header.split(";")[0]).join("; ");
}

async function signInForm(): Promise<{ cookie: string; csrf: string }> {
  const page = await instance.app.request(`${ORIGIN}/login`);
  const anonymous = cookiesOf(page);
  const csrf = /name="csrf" value="([^"]+)"/.exec(await page.text())![1]!;
  const signedIn = await instance.app.request(`${ORIGIN}/login`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded", Cookie: anonymous },
    body: new URLSearchParams({ csrf, username: "alice", password: "alice's password" }).toString(),
  });
  const cookie = cookiesOf(signedIn);
  const settings = await (await instance.app.request(`${ORIGIN}/settings`, { headers: { Cookie: cookie } })).text();
  return { cookie, csrf: /name="csrf" value="([^"]+)"/.exec(settings)![1]! };
}

/** Row counts of every table but Fedify's cache and queue (which reads may fill). */
async function tableCounts(): Promise<Record<string, number>> {
  return await rawSql(instance.db, (client) => {
    const tables = client.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'fedify_%' AND name NOT LIKE 'sqlite_%'").all() as { name: string }[];
    return Object.fromEntries(tables.map(({ name }) => [name, (client.prepare(`SELECT COUNT(*) AS n FROM "${name}"`).get() as { n: number }).n]));
  });
}

interface Probe {
  method: string;
  path: string;
}

/** One concrete request per route, with its parameters filled with existing ids (or, only routes with parameters, with `fill`). */
function routes(fill?: string): Probe[] {
  const seen = new Set<string>();
  const probes: Probe[] = [];
  for (const route of (instance.app as unknown as { routes: { method: string; path: string }[] }).routes) {
    if (route.path.endsWith("*") || (fill !== undefined && !route.path.includes(":"))) continue;
    const method = route.method === "ALL" ? "GET" : route.method;
    const path = route.path.replace(/:(\w+)(\{[^}]*\})?/g, (_match, name: string) => {
      if (fill !== undefined) return fill;
      if (name === "id" || name.endsWith("Id") || name === "number") return "1";
      return name === "handle" || name === "community" ? "nurses" : "x";
    });
    if (seen.has(`${method} ${path}`)) continue;
    seen.add(`${method} ${path}`);
    probes.push({ method, path });
  }
  return probes;
}

async function send(probe: Probe, options: { query?: string; fields?: Record<string, string>; body?: string } = {}): Promise<Response> {
  const api = probe.path.startsWith("/api/");
  const headers: Record<string, string> = api ? { Authorization: `Bearer ${token}` } : { Cookie: session.cookie };
  let body: string | undefined;
  if (probe.method !== "GET" && probe.method !== "HEAD") {
    const fields = options.fields ?? {};
    headers["Content-Type"] = api ? "application/json" : "application/x-www-form-urlencoded";
    body = options.body ?? (api ? JSON.stringify(fields) : new URLSearchParams({ ...fields, csrf: session.csrf }).toString());
  }
  return instance.app.request(`${ORIGIN}${probe.path}${options.query ?? ""}`, { method: probe.method, headers, body });
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-edges-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: false });
  const alice = await createUser(instance.db, { username: "alice", password: "alice's password", isAdmin: true });
  await createCommunity(instance.db, { handle: "nurses", name: "Nurses", steward: alice });
  token = (await createToken(instance.db, alice.id, "edges")).token;
  session = await signInForm();
});

afterAll(async () => {
  await instance?.close();
  cleanupDir(dataDir);
});

describe("control characters in parameters", () => {
  it("refuses CR, LF or NUL in any route's path or query with 400 and changes nothing", async () => {
    const before = await tableCounts();
    const probes = routes("x%0D%0AX-Injected:%201");
    expect(probes.length).toBeGreaterThan(50);
    for (const probe of probes) {
      const response = await send(probe);
      expect([probe.method, probe.path, response.status]).toEqual([probe.method, probe.path, 400]);
    }
    for (const probe of routes()) {
      for (const query of ["?next=%0D%0Ahttp://evil.example", "?q=a%00b", "?community=nurses%0A", "?x=%7F"]) {
        const response = await send(probe, { query, fields: { handle: "ok" } });
        expect([probe.method, probe.path, query, response.status]).toEqual([probe.method, probe.path, query, 400]);
      }
    }
    expect(await tableCounts()).toEqual(before);
  });

  it("answers CRLF in every form field and API body field of every route without a server error", async () => {
    const statuses = new Map<number, number>();
    for (const probe of routes()) {
      const response = await send(probe, { fields: Object.fromEntries(FIELDS.map((field) => [field, CRLF])) });
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      expect([probe.method, probe.path, response.status < 500]).toEqual([probe.method, probe.path, true]);
    }
    // The probes reached the handlers (validation answers), not only the edge.
    expect(statuses.get(400)).toBeGreaterThan(10);
  });

  it("refuses other control characters in a form field with 400 and changes nothing", async () => {
    const before = await tableCounts();
    const response = await send({ method: "POST", path: "/communities/new" }, { fields: { handle: "evil\u0000", name: "Evil\u001b[31m" } });
    expect(response.status).toBe(400);
    expect(await tableCounts()).toEqual(before);
  });
});

describe("request bodies", () => {
  // Whole-document imports (a policy, a Polis conversation) are bounded at 32 MiB instead.
  const IMPORTS = new Set(["/api/v1/policies/import", "/api/v1/statements/import"]);
  const big = "x".repeat(BODY_LIMIT_BYTES + 1);

  it("refuses a body over 1 MiB on API, form and inbox routes with 413, and changes nothing", async () => {
    const before = await tableCounts();
    const json = JSON.stringify({ handle: "big", name: big });
    for (const probe of routes().filter((p) => p.method === "POST" || p.method === "PUT" || p.method === "PATCH")) {
      if (probe.path === "/api/v1/preferences/import") continue;
      const body = IMPORTS.has(probe.path)
        ? JSON.stringify({ name: "x".repeat(IMPORT_BODY_LIMIT_BYTES + 1) })
        : probe.path.startsWith("/api/")
          ? json
          : new URLSearchParams({ csrf: session.csrf, name: big }).toString();
      const response = await send(probe, { body });
      expect([probe.method, probe.path, response.status]).toEqual([probe.method, probe.path, 413]);
      // The unread rest of the body is still on the socket: the client must not reuse it.
      expect(response.headers.get("connection")).toBe("close");
    }
    // Without a Content-Length (chunked), the limit holds while the body streams in.
    const chunked = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 3; i++) controller.enqueue(new TextEncoder().encode("y".repeat(BODY_LIMIT_BYTES / 2)));
        controller.close();
      },
    });
    const streamed = await instance.app.request(`${ORIGIN}/actors/nurses/inbox`, {
      method: "POST",
      headers: { "Content-Type": "application/activity+json" },
      body: chunked,
      duplex: "half",
    } as RequestInit);
    expect(streamed.status).toBe(413);
    expect(await tableCounts()).toEqual(before);
  });

  it("lets a whole-document import read more than 1 MiB (real Polis exports are larger)", async () => {
    const response = await send({ method: "POST", path: "/api/v1/statements/import" }, { body: JSON.stringify({ name: "y".repeat(2 * BODY_LIMIT_BYTES) }) });
    expect(response.status).not.toBe(413);
  });

  it("lets the streaming preference import read more than 1 MiB", async () => {
    const lines = Array.from({ length: 4_000 }, (_, i) => JSON.stringify({ prompt: `p${i} ${"w".repeat(300)}`, chosen: "a", rejected: "b" })).join("\n");
    expect(lines.length).toBeGreaterThan(BODY_LIMIT_BYTES);
    // The probes above revoked the token (DELETE /api/v1/tokens/1 is a route too).
    token = (await createToken(instance.db, 1, "import")).token;
    const response = await send({ method: "POST", path: "/api/v1/preferences/import" }, { query: "?community=nurses&format=trl", body: lines });
    expect(response.status, await response.text()).toBe(200);
  });
});

describe("the Node server", () => {
  let server: LocalInstance;

  beforeAll(async () => {
    server = await startLocalInstance({ env: { FEDALIGN_HEADERS_TIMEOUT_MS: "1000", FEDALIGN_REQUEST_TIMEOUT_MS: "2000", FEDALIGN_MAX_CONNECTIONS: "8" } });
  });

  afterAll(async () => {
    await server?.destroy();
  });

  function open(): Promise<{ socket: Socket; closed: Promise<string> }> {
    return new Promise((resolve, reject) => {
      const socket = connect(server.port, "127.0.0.1");
      let received = "";
      socket.on("data", (chunk) => (received += chunk));
      const closed = new Promise<string>((done) => socket.on("close", () => done(received)));
      socket.once("connect", () => resolve({ socket, closed }));
      socket.once("error", reject);
    });
  }

  it("closes a connection whose headers never finish", async () => {
    const { socket, closed } = await open();
    socket.write("GET /api/v1/instance HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ");
    const started = Date.now();
    const answer = await closed;
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(answer === "" || answer.startsWith("HTTP/1.1 408")).toBe(true);
  });

  it("closes connections over the cap and keeps serving", async () => {
    const idle = await Promise.all(Array.from({ length: 8 }, () => open()));
    const extra = await open();
    expect(await extra.closed).toBe("");
    for (const { socket } of idle) socket.destroy();
    await waitFor(async () => (await fetch(`${server.origin}/api/v1/instance`)).ok, { what: "the server to serve again" });
  });
});
