/**
 * The `fedalign` command contract, end to end against running servers:
 * admin commands on the data directory, member commands over HTTP. The
 * command runs as its own process, as a user runs it; the two servers it
 * talks to run in the test process (test/local-instance.ts), since what is
 * tested here is the command, not the server's process.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, waitFor, type FollowView } from "./harness.ts";
import { startLocalInstance, type LocalInstance } from "./local-instance.ts";

let a: LocalInstance;
let b: LocalInstance;
let bobToken: string;

beforeAll(async () => {
  [a, b] = await Promise.all([startLocalInstance(), startLocalInstance()]);
});

afterAll(async () => {
  await Promise.all([a?.destroy(), b?.destroy()]);
});

const member = (instance: LocalInstance, token: string, args: string[]) =>
  runCli(["--server", instance.origin, "--token", token, ...args]);

describe("admin commands", () => {
  it("creates users, prints a bare token, and creates a community with a steward", async () => {
    const user = await a.cli(["admin", "user", "create", "alice", "--password-stdin", "--admin", "--data", a.dataDir], {
      input: "a long enough password\n",
    });
    expect(user.code, user.stderr).toBe(0);
    expect(user.stdout).toContain("alice");

    const token = await a.cli(["admin", "token", "create", "alice", "--data", a.dataDir]);
    expect(token.code, token.stderr).toBe(0);
    expect(token.stdout).toMatch(/^fda_[A-Za-z0-9_-]{40,}\n$/);

    const community = await a.cli([
      "admin", "community", "create", "nurses", "--name", "Nurses' Union", "--steward", "alice", "--data", a.dataDir, "--json",
    ]);
    expect(community.code, community.stderr).toBe(0);
    expect(JSON.parse(community.stdout)).toEqual({ handle: "nurses", name: "Nurses' Union", steward: "alice" });

    const me = await member(a, token.stdout.trim(), ["whoami", "--json"]);
    expect(JSON.parse(me.stdout)).toMatchObject({ username: "alice", isAdmin: true, communities: [{ handle: "nurses", role: "steward" }] });
  });

  it("refuses a duplicate name and a short password with one line each", async () => {
    const duplicate = await a.cli(["admin", "community", "create", "alice", "--name", "X", "--steward", "alice", "--data", a.dataDir]);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr.trim().split("\n")).toHaveLength(1);
    expect(duplicate.stderr).toContain("already taken");

    const short = await a.cli(["admin", "user", "create", "dave", "--password-stdin", "--data", a.dataDir], { input: "short" });
    expect(short.code).toBe(1);
    expect(short.stderr).toMatch(/Password must be at least 8 characters/);
  });
});

describe("member commands against any server", () => {
  it("logs in with a password and follows a remote community as a user", async () => {
    const created = await b.cli(["admin", "user", "create", "bob", "--password-stdin", "--data", b.dataDir], { input: "bob's password\n" });
    expect(created.code, created.stderr).toBe(0);
    const login = await runCli(["--server", b.origin, "login", "--username", "bob", "--password-stdin"], { input: "bob's password\n" });
    expect(login.code, login.stderr).toBe(0);
    bobToken = login.stdout.trim();

    const follow = await member(b, bobToken, ["follow", `@nurses@${a.host}`]);
    expect(follow.code, follow.stderr).toBe(0);
    expect(follow.stdout).toContain(`@nurses@${a.host}`);

    // Wait on the API (a command per poll would cost a process each), then list with the command.
    await waitFor(async () => (await b.api<FollowView[]>("GET", "follows", { token: bobToken })).body.some((row) => row.state === "accepted"), {
      what: "the follow to be accepted",
      timeoutMs: 30_000,
    });
    const listed = await member(b, bobToken, ["following", "--json"]);
    const accepted = (JSON.parse(listed.stdout) as FollowView[]).find((row) => row.state === "accepted");
    expect(accepted?.actor.iri).toBe(a.actorUri("nurses"));

    const text = await member(b, bobToken, ["following"]);
    expect(text.stdout).toMatch(/accepted\s+@nurses@/);
  });

  it("subscribes a community with --as, for stewards only", async () => {
    const steward = await b.cli(["admin", "community", "create", "readers", "--name", "Readers", "--steward", "bob", "--data", b.dataDir]);
    expect(steward.code, steward.stderr).toBe(0);
    const follow = await runCli(["follow", a.actorUri("nurses"), "--as", "readers", "--json"], {
      env: { FEDALIGN_SERVER: b.origin, FEDALIGN_TOKEN: bobToken },
    });
    expect(follow.code, follow.stderr).toBe(0);
    await waitFor(
      async () => (await b.api<FollowView[]>("GET", "follows?as=readers", { token: bobToken })).body[0]?.state === "accepted",
      { what: "the community's subscription to be accepted", timeoutMs: 30_000 },
    );
    const listed = await member(b, bobToken, ["following", "--as", "readers", "--json"]);
    expect((JSON.parse(listed.stdout) as FollowView[]).map((row) => [row.state, row.actor.iri])).toEqual([["accepted", a.actorUri("nurses")]]);

    const carol = await b.createUser("carol");
    const refused = await member(b, carol.token, ["follow", a.actorUri("nurses"), "--as", "readers"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr.trim()).toMatch(/^fedalign: Only stewards of "readers"/);
    expect(refused.stderr.trim().split("\n")).toHaveLength(1);
  });

  it("unfollows by handle", async () => {
    const result = await member(b, bobToken, ["unfollow", `@nurses@${a.host}`]);
    expect(result.code, result.stderr).toBe(0);
    const listed = await member(b, bobToken, ["following", "--json"]);
    expect(JSON.parse(listed.stdout)).toEqual([]);
  });

  it("explains a bad token, a missing server and an unknown target in one line", async () => {
    const badToken = await member(b, "fda_nope", ["following"]);
    expect(badToken.code).toBe(1);
    expect(badToken.stderr).toMatch(/token is unknown or revoked/);

    const noServer = await runCli(["following"], { env: { FEDALIGN_SERVER: "", FEDALIGN_TOKEN: "" } });
    expect(noServer.code).toBe(1);
    expect(noServer.stderr).toMatch(/No server given/);

    const unknown = await member(b, bobToken, ["follow", `@nobody@${a.host}`]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr.trim().split("\n")).toHaveLength(1);
    expect(unknown.stderr).toMatch(/Nothing found|Could not look up/);
  });

  it("has --help for every command", async () => {
    const help = await runCli(["follow", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--as <community>");
    const top = await runCli(["--help"]);
    for (const command of ["serve", "admin", "follow", "following", "login"]) expect(top.stdout).toContain(command);
  });
});
