/**
 * The JSON API under /api/v1 and the public documents next to it (actors,
 * WebFinger, NodeInfo, HTML profiles), on one in-process instance: requests
 * go through `app.request`, no HTTP server and no remote fetches.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createUser } from "../src/accounts/users.ts";
import { openInstance, type Instance } from "../src/instance.ts";

const ORIGIN = "http://127.0.0.1:9";
const HOST = "127.0.0.1:9";
const PASSWORD = "correct horse battery";

interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  issues?: { path: string; message: string }[];
}

interface TokenView {
  id: number;
  label: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
  token?: string;
}

interface Member {
  username: string;
  role: string;
}

interface CommunityDetail {
  handle: string;
  name: string;
  actor: string;
  fediverseHandle: string;
  manuallyApprovesFollowers: boolean;
  members: Member[];
}

interface Reply<T> {
  status: number;
  contentType: string;
  body: T;
  text: string;
}

let dataDir: string;
let instance: Instance;
/** Tokens obtained through POST /api/v1/tokens. */
const tokens: Record<"ada" | "alice" | "bob" | "carol", string> = { ada: "", alice: "", bob: "", carol: "" };

async function request<T = unknown>(
  method: string,
  path: string,
  options: { token?: string; body?: unknown; rawBody?: string; accept?: string } = {},
): Promise<Reply<T>> {
  const headers: Record<string, string> = {};
  if (options.token) headers.Authorization = `Bearer ${options.token}`;
  if (options.accept) headers.Accept = options.accept;
  let body: string | undefined;
  if (options.rawBody !== undefined || options.body !== undefined) {
    headers["Content-Type"] = "application/json";
    body = options.rawBody ?? JSON.stringify(options.body);
  }
  const url = path.startsWith("http") ? path : new URL(path, ORIGIN).href;
  const response = await instance.app.request(url, { method, headers, body });
  const text = await response.text();
  const contentType = response.headers.get("content-type") ?? "";
  let parsed: unknown = text;
  if (/json/.test(contentType)) parsed = JSON.parse(text);
  return { status: response.status, contentType, body: parsed as T, text };
}

const api = <T = unknown>(method: string, path: string, options?: Parameters<typeof request>[2]) =>
  request<T>(method, `/api/v1/${path}`, options);

async function login(username: string, password = PASSWORD, label?: string) {
  return api<TokenView & Problem>("POST", "tokens", { body: { username, password, ...(label ? { label } : {}) } });
}

function expectProblem(reply: Reply<unknown>, status: number, detail?: RegExp): Problem {
  expect(reply.status, reply.text).toBe(status);
  expect(reply.contentType).toMatch(/^application\/problem\+json/);
  const problem = reply.body as Problem;
  expect(problem.status).toBe(status);
  expect(problem.title).toEqual(expect.any(String));
  expect(problem.title.length).toBeGreaterThan(0);
  expect(problem.detail).toEqual(expect.any(String));
  if (detail) expect(problem.detail).toMatch(detail);
  return problem;
}

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), "fedalign-api-"));
  instance = await openInstance({ dataDir, origin: ORIGIN, allowPrivateAddress: false });
  await Promise.all([
    await createUser(instance.db, { username: "ada", password: PASSWORD, isAdmin: true, displayName: "Ada" }),
    await createUser(instance.db, { username: "alice", password: PASSWORD, displayName: "Alice" }),
    await createUser(instance.db, { username: "bob", password: PASSWORD }),
    await createUser(instance.db, { username: "carol", password: PASSWORD }),
  ]);
  for (const name of Object.keys(tokens) as (keyof typeof tokens)[]) {
    const reply = await login(name);
    expect(reply.status, reply.text).toBe(201);
    tokens[name] = reply.body.token!;
  }
  const created = await api<CommunityDetail>("POST", "communities", {
    token: tokens.alice,
    body: { handle: "nurses", name: "Nurses' Union", summary: "Care work." },
  });
  expect(created.status, created.text).toBe(201);
});

afterAll(async () => {
  await instance?.close();
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe("OpenAPI document", () => {
  it("is OpenAPI 3.1 with the API's paths, the bearer scheme and zod-made schemas", async () => {
    const reply = await api<{
      openapi: string;
      servers: { url: string }[];
      paths: Record<string, Record<string, { security?: unknown[] }>>;
      components: { securitySchemes: Record<string, { type: string; scheme: string }>; schemas: Record<string, { properties?: Record<string, unknown> }> };
    }>("GET", "openapi.json");
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/json/);
    const doc = reply.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(doc.servers[0]?.url).toBe(`${ORIGIN}/api/v1`);
    for (const path of [
      "/instance",
      "/me",
      "/users",
      "/tokens",
      "/tokens/{id}",
      "/communities",
      "/communities/{handle}",
      "/communities/{handle}/members/{username}",
      "/follows",
      "/follows/{id}",
      "/followers",
      "/followers/{id}/accept",
      "/followers/{id}/reject",
    ]) {
      expect(doc.paths, path).toHaveProperty([path]);
    }
    expect(Object.keys(doc.paths["/communities/{handle}"]!).sort()).toEqual(["get", "patch"]);
    expect(doc.paths["/me"]!.get!.security).toEqual([{ bearer: [] }]);
    expect(doc.components.securitySchemes.bearer).toMatchObject({ type: "http", scheme: "bearer" });
    expect(doc.components.schemas.Community?.properties).toHaveProperty("handle");
    expect(doc.components.schemas.Community?.properties).toHaveProperty("fediverseHandle");
    expect(doc.components.schemas.Problem?.properties).toHaveProperty("detail");
    expect(doc.components.schemas).toHaveProperty("NewCommunity");
  });

  it("GET /instance describes the instance", async () => {
    const reply = await api<{ name: string; software: { name: string }; actor: string; users: number; communities: number }>(
      "GET",
      "instance",
    );
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      name: HOST,
      software: { name: "fedalign" },
      actor: `${ORIGIN}/actors/instance`,
    });
    expect(reply.body.users).toBeGreaterThanOrEqual(4);
    expect(reply.body.communities).toBeGreaterThanOrEqual(1);
  });
});

describe("errors are problem details", () => {
  it("an unknown endpoint, or a method a path does not have, is 404", async () => {
    expectProblem(await api("GET", "no-such-thing"), 404, /openapi\.json/);
    expectProblem(await api("GET", "tokens/1/extra", { token: tokens.alice }), 404);
    expectProblem(await api("PUT", "me", { token: tokens.alice, body: {} }), 404);
  });

  it("/me without a token is 401 and says how to authenticate", async () => {
    expectProblem(await api("GET", "me"), 401, /Authorization: Bearer/);
  });

  it("/me with an unknown token or a malformed header is 401", async () => {
    expectProblem(await api("GET", "me", { token: "fda_nope" }), 401, /unknown or revoked/);
    const malformed = await instance.app.request(`${ORIGIN}/api/v1/me`, { headers: { Authorization: "Basic YWxpY2U6eA==" } });
    expect(malformed.status).toBe(401);
    expect(((await malformed.json()) as Problem).detail).toMatch(/Bearer/);
  });

  it("a wrong password, or an unknown user, on POST /tokens is 401 with the same answer", async () => {
    const wrong = expectProblem(await login("alice", "not the password"), 401, /Wrong username or password/);
    const unknown = expectProblem(await login("nobody", PASSWORD), 401);
    expect(unknown.detail).toBe(wrong.detail);
  });

  it("an invalid body on POST /communities is 400 naming each bad field", async () => {
    const problem = expectProblem(
      await api("POST", "communities", { token: tokens.alice, body: { handle: "Bad Handle!", name: "" } }),
      400,
    );
    const paths = problem.issues?.map((issue) => issue.path) ?? [];
    expect(paths).toContain("handle");
    expect(paths).toContain("name");
    expect(problem.detail).toMatch(/handle: /);
    expect(problem.detail).toMatch(/name: /);
  });

  // Hono's body parsing fails before validation runs; these must still be
  // problem details with a 4xx, not a logged 500.
  it("a malformed JSON body is 400", async () => {
    expectProblem(await api("POST", "communities", { token: tokens.alice, rawBody: '{"handle": "x",' }), 400, /JSON/);
  });

  it("an empty JSON body is 400", async () => {
    expectProblem(await api("POST", "tokens", { rawBody: "" }), 400);
  });

  it("a body that is not JSON is 400 or 415", async () => {
    const response = await instance.app.request(`${ORIGIN}/api/v1/tokens`, {
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
      body: "username=alice&password=x",
    });
    expect([400, 415]).toContain(response.status);
    expect(response.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  });

  it("a duplicate community handle is 409", async () => {
    expectProblem(
      await api("POST", "communities", { token: tokens.bob, body: { handle: "nurses", name: "Other nurses" } }),
      409,
      /already taken/,
    );
  });

  it("a community handle that is a username is 409", async () => {
    expectProblem(await api("POST", "communities", { token: tokens.bob, body: { handle: "carol", name: "Carol's" } }), 409, /carol/);
  });

  it("a reserved community handle is 400", async () => {
    expectProblem(await api("POST", "communities", { token: tokens.bob, body: { handle: "admin", name: "Admins" } }), 400, /reserved/);
  });

  it("an unknown community is 404", async () => {
    expectProblem(await api("GET", "communities/nobody_here"), 404, /nobody_here/);
  });
});

describe("tokens", () => {
  it("a new token works on /me, is listed without its secret, and stops working once revoked", async () => {
    const created = await login("bob", PASSWORD, "laptop");
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^fda_/);
    expect(created.body.label).toBe("laptop");
    const secret = created.body.token!;

    const me = await api<{ username: string; isAdmin: boolean; handle: string; communities: unknown[] }>("GET", "me", { token: secret });
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ username: "bob", isAdmin: false, handle: `@bob@${HOST}` });

    const list = await api<TokenView[]>("GET", "tokens", { token: secret });
    expect(list.status).toBe(200);
    const listed = list.body.find((token) => token.id === created.body.id);
    expect(listed).toMatchObject({ label: "laptop", revokedAt: null });
    expect(listed?.lastUsedAt).not.toBeNull();
    for (const token of list.body) expect(token).not.toHaveProperty("token");
    expect(list.text).not.toContain(secret);
    // Only bob's own tokens: his login token and the new one.
    expect(list.body).toHaveLength(2);

    const revoked = await api<TokenView>("DELETE", `tokens/${created.body.id}`, { token: tokens.bob });
    expect(revoked.status).toBe(200);
    expect(revoked.body.revokedAt).not.toBeNull();
    expectProblem(await api("GET", "me", { token: secret }), 401, /revoked/);
    // Revoking twice: no active token with that id.
    expectProblem(await api("DELETE", `tokens/${created.body.id}`, { token: tokens.bob }), 404);
  });

  it("one user cannot revoke another's token", async () => {
    const created = await login("carol", PASSWORD, "phone");
    expectProblem(await api("DELETE", `tokens/${created.body.id}`, { token: tokens.bob }), 404);
    expect((await api("GET", "me", { token: created.body.token })).status).toBe(200);
  });

  it("a token id that is not a number is 400", async () => {
    const problem = expectProblem(await api("DELETE", "tokens/abc", { token: tokens.bob }), 400);
    expect(problem.issues?.[0]?.path).toBe("id");
  });
});

describe("communities", () => {
  it("the creator is the first steward and /me lists the role", async () => {
    const reply = await api<CommunityDetail>("GET", "communities/nurses");
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({
      handle: "nurses",
      name: "Nurses' Union",
      actor: `${ORIGIN}/actors/nurses`,
      fediverseHandle: `@nurses@${HOST}`,
      manuallyApprovesFollowers: false,
    });
    expect(reply.body.members.map((m) => [m.username, m.role])).toEqual([["alice", "steward"]]);
    const me = await api<{ communities: { handle: string; role: string }[] }>("GET", "me", { token: tokens.alice });
    expect(me.body.communities).toEqual([{ handle: "nurses", role: "steward" }]);
    const list = await api<{ handle: string }[]>("GET", "communities");
    expect(list.body.map((c) => c.handle)).toContain("nurses");
  });

  it("a non-steward cannot change it; a steward can", async () => {
    expectProblem(await api("PATCH", "communities/nurses", { token: tokens.bob, body: { name: "Hijacked" } }), 403, /steward/);
    const changed = await api<CommunityDetail>("PATCH", "communities/nurses", {
      token: tokens.alice,
      body: { name: "Nurses' Union (EU)", manuallyApprovesFollowers: true },
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body).toMatchObject({ name: "Nurses' Union (EU)", manuallyApprovesFollowers: true });
    const again = await api<CommunityDetail>("GET", "communities/nurses");
    expect(again.body).toMatchObject({ name: "Nurses' Union (EU)", manuallyApprovesFollowers: true });
  });

  it("a steward adds members; the last steward cannot be removed; a member can leave", async () => {
    expectProblem(
      await api("PUT", "communities/nurses/members/carol", { token: tokens.bob, body: { role: "member" } }),
      403,
    );
    const added = await api<Member[]>("PUT", "communities/nurses/members/bob", { token: tokens.alice, body: { role: "member" } });
    expect(added.status, added.text).toBe(200);
    expect(added.body.map((m) => [m.username, m.role])).toEqual([
      ["alice", "steward"],
      ["bob", "member"],
    ]);
    expectProblem(
      await api("PUT", "communities/nurses/members/nobody", { token: tokens.alice, body: { role: "member" } }),
      404,
      /nobody/,
    );
    expectProblem(
      await api("PUT", "communities/nurses/members/bob", { token: tokens.alice, body: { role: "owner" } }),
      400,
    );

    // A plain member cannot remove someone else.
    expectProblem(await api("DELETE", "communities/nurses/members/alice", { token: tokens.bob }), 403);
    expectProblem(await api("DELETE", "communities/nurses/members/alice", { token: tokens.alice }), 409, /last steward/);

    const left = await api<Member[]>("DELETE", "communities/nurses/members/bob", { token: tokens.bob });
    expect(left.status, left.text).toBe(200);
    expect(left.body.map((m) => m.username)).toEqual(["alice"]);
    expectProblem(await api("DELETE", "communities/nurses/members/bob", { token: tokens.bob }), 404);
  });

  it("an empty PATCH is harmless", async () => {
    const reply = await api<CommunityDetail>("PATCH", "communities/nurses", { token: tokens.alice, body: {} });
    expect(reply.status, reply.text).toBe(200);
  });

  // Demoting the last steward would leave a community only admins can run.
  it("the last steward cannot demote themself", async () => {
    const created = await api("POST", "communities", { token: tokens.carol, body: { handle: "doulas", name: "Doulas" } });
    expect(created.status).toBe(201);
    expectProblem(
      await api("PUT", "communities/doulas/members/carol", { token: tokens.carol, body: { role: "member" } }),
      409,
      /last steward/,
    );
  });

  it("with a second steward, the first can step down", async () => {
    await api("POST", "communities", { token: tokens.carol, body: { handle: "midwives", name: "Midwives" } });
    const promoted = await api<Member[]>("PUT", "communities/midwives/members/bob", { token: tokens.carol, body: { role: "steward" } });
    expect(promoted.status).toBe(200);
    const left = await api<Member[]>("DELETE", "communities/midwives/members/carol", { token: tokens.carol });
    expect(left.status, left.text).toBe(200);
    expect(left.body.map((m) => [m.username, m.role])).toEqual([["bob", "steward"]]);
  });
});

describe("users", () => {
  it("only admins create users", async () => {
    expectProblem(
      await api("POST", "users", { token: tokens.alice, body: { username: "dave", password: "long enough pw" } }),
      403,
      /admin/,
    );
  });

  it("an admin creates a user who can then log in", async () => {
    const reply = await api<{ username: string; displayName: string; isAdmin: boolean; actor: string }>("POST", "users", {
      token: tokens.ada,
      body: { username: "dave", password: "long enough pw", displayName: "Dave" },
    });
    expect(reply.status, reply.text).toBe(201);
    expect(reply.body).toMatchObject({ username: "dave", displayName: "Dave", isAdmin: false, actor: `${ORIGIN}/actors/dave` });
    expect((await login("dave", "long enough pw")).status).toBe(201);
    expectProblem(
      await api("POST", "users", { token: tokens.ada, body: { username: "dave", password: "long enough pw" } }),
      409,
    );
  });

  it("a short password is 400", async () => {
    const problem = expectProblem(
      await api("POST", "users", { token: tokens.ada, body: { username: "erin", password: "short" } }),
      400,
      /password/,
    );
    expect(problem.issues?.map((issue) => issue.path)).toEqual(["password"]);
  });
});

describe("follows", () => {
  it("acting as a community needs a steward", async () => {
    expectProblem(await api("GET", "follows?as=nurses", { token: tokens.bob }), 403, /steward/);
    expectProblem(await api("GET", "followers?as=nurses", { token: tokens.bob }), 403);
    const asSteward = await api<unknown[]>("GET", "follows?as=nurses", { token: tokens.alice });
    expect(asSteward.status).toBe(200);
    expect(asSteward.body).toEqual([]);
    const mine = await api<unknown[]>("GET", "followers", { token: tokens.bob });
    expect(mine.body).toEqual([]);
  });

  it("needs a token", async () => {
    expectProblem(await api("GET", "follows"), 401);
  });

  it("refuses loopback and private targets unless private addresses are allowed (SSRF guard)", async () => {
    for (const target of ["@nurses@localhost:8080", "http://127.0.0.1:8080/actors/nurses", "https://192.168.1.5/actors/x"]) {
      expectProblem(await api("POST", "follows", { token: tokens.bob, body: { target } }), 400, /--allow-private-address/);
    }
    expect((await api<unknown[]>("GET", "follows", { token: tokens.bob })).body).toEqual([]);
  });

  it("explains a target that is neither a handle nor a URL, and unknown fields", async () => {
    expectProblem(await api("POST", "follows", { token: tokens.bob, body: { target: "nurses" } }), 400, /neither a fediverse handle/);
    expectProblem(await api("POST", "follows", { token: tokens.bob, body: { target: "@a@b.example", sa: "x" } }), 400);
  });
});

describe("federation documents", () => {
  const AP = "application/activity+json";

  it("the instance actor is an Application", async () => {
    const reply = await request<{ id: string; type: string }>("GET", "/actors/instance", { accept: AP });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^application\/activity\+json/);
    expect(reply.body).toMatchObject({ id: `${ORIGIN}/actors/instance`, type: "Application" });
  });

  it("a community is a Group with an RSA publicKey and an Ed25519 Multikey", async () => {
    const reply = await request<{
      id: string;
      type: string;
      preferredUsername: string;
      name: string;
      inbox: string;
      publicKey: { id: string; owner: string; publicKeyPem: string } | { id: string; owner: string; publicKeyPem: string }[];
      assertionMethod: { id: string; type: string; controller: string; publicKeyMultibase: string }[] | { type: string; publicKeyMultibase: string };
    }>("GET", "/actors/nurses", { accept: AP });
    expect(reply.status).toBe(200);
    const actor = reply.body;
    expect(actor).toMatchObject({
      id: `${ORIGIN}/actors/nurses`,
      type: "Group",
      preferredUsername: "nurses",
      name: "Nurses' Union (EU)",
      inbox: `${ORIGIN}/actors/nurses/inbox`,
    });
    const publicKeys = [actor.publicKey].flat();
    expect(publicKeys.length).toBeGreaterThanOrEqual(1);
    expect(publicKeys[0]!.owner).toBe(actor.id);
    expect(publicKeys[0]!.publicKeyPem).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const { createPublicKey } = await import("node:crypto");
    expect(createPublicKey(publicKeys[0]!.publicKeyPem).asymmetricKeyType).toBe("rsa");
    const multikeys = [actor.assertionMethod].flat();
    expect(multikeys.every((key) => key.type === "Multikey")).toBe(true);
    // Ed25519 public keys in multibase (base58btc, multicodec 0xed01) start with "z6Mk".
    expect(multikeys.some((key) => key.publicKeyMultibase.startsWith("z6Mk"))).toBe(true);
  });

  it("a user is a Person", async () => {
    const reply = await request<{ type: string; preferredUsername: string; name: string }>("GET", "/actors/alice", { accept: AP });
    expect(reply.status).toBe(200);
    expect(reply.body).toMatchObject({ type: "Person", preferredUsername: "alice", name: "Alice" });
  });

  it("WebFinger resolves a community handle to its actor", async () => {
    const reply = await request<{ subject: string; links: { rel: string; type?: string; href?: string }[] }>(
      "GET",
      `/.well-known/webfinger?resource=${encodeURIComponent(`acct:nurses@${HOST}`)}`,
    );
    expect(reply.status).toBe(200);
    expect(reply.body.subject).toBe(`acct:nurses@${HOST}`);
    const self = reply.body.links.find((link) => link.rel === "self");
    expect(self).toMatchObject({ type: AP, href: `${ORIGIN}/actors/nurses` });
    const missing = await request("GET", `/.well-known/webfinger?resource=${encodeURIComponent(`acct:nobody@${HOST}`)}`);
    expect(missing.status).toBe(404);
  });

  it("NodeInfo names the software and the protocol", async () => {
    const wellKnown = await request<{ links: { rel: string; href: string }[] }>("GET", "/.well-known/nodeinfo");
    expect(wellKnown.status).toBe(200);
    const link = wellKnown.body.links.find((l) => l.rel === "http://nodeinfo.diaspora.software/ns/schema/2.1");
    expect(link?.href).toBe(`${ORIGIN}/nodeinfo/2.1`);
    const nodeinfo = await request<{ version: string; software: { name: string }; protocols: string[]; usage: { users: { total: number } } }>(
      "GET",
      link!.href,
    );
    expect(nodeinfo.status).toBe(200);
    expect(nodeinfo.body.version).toBe("2.1");
    expect(nodeinfo.body.software.name).toBe("fedalign");
    expect(nodeinfo.body.protocols).toEqual(["activitypub"]);
    expect(nodeinfo.body.usage.users.total).toBeGreaterThanOrEqual(4);
  });

  it("a browser asking for the same actor URL gets the HTML profile", async () => {
    const reply = await request<string>("GET", "/actors/nurses", { accept: "text/html,application/xhtml+xml" });
    expect(reply.status).toBe(200);
    expect(reply.contentType).toMatch(/^text\/html/);
    expect(reply.text).toContain("Nurses&#39; Union (EU)");
    expect(reply.text).toContain(`@nurses@${HOST}`);
    // The role links to its glossary entry.
    expect(reply.text).toMatch(/<a href="\/actors\/alice">Alice<\/a>.*<td><a class="term" href="\/glossary#steward"[^>]*>steward<\/a><\/td>/);
    const missing = await request("GET", "/actors/nobody_here", { accept: "text/html" });
    expect(missing.status).toBe(404);
  });
});
