/**
 * Commands for members, against any Fedalign server with a personal token:
 * `fedalign --server URL --token TOKEN follow @nurses@care.example`.
 */
import type { Command } from "commander";
import { FedalignError } from "../errors.ts";
import type { FollowView as FollowViewSchema, Me, NewToken } from "../api/schemas/social.ts";
import { clientFor, type Reply } from "./client.ts";
import { readStdin } from "./input.ts";
import { printJson, printLine, printTable } from "./output.ts";

type FollowView = Reply<typeof FollowViewSchema>;

const client = clientFor;

function printFollows(rows: FollowView[], empty: string): void {
  if (rows.length === 0) return printLine(empty);
  printTable(
    ["ID", "STATE", "ACTOR", "TYPE", "NAME"],
    rows.map((row) => [String(row.id), row.state, row.actor.handle ?? row.actor.iri, row.actor.type ?? "", row.actor.name ?? ""]),
  );
}

export function registerMemberCommands(program: Command): void {
  program
    .command("login")
    .description("exchange a username and password for a personal API token, printed alone on standard output")
    .requiredOption("--username <name>", "your username on the server")
    .requiredOption("--password-stdin", "read the password from standard input")
    .option("--label <text>", "what the token is for", "cli")
    .action(async function (this: Command, options: { username: string; label: string }) {
      const password = await readStdin();
      const result = await client(this, false).request<Reply<typeof NewToken>>("POST", "tokens", {
        username: options.username,
        password,
        label: options.label,
      });
      printLine(result.token);
    });

  program
    .command("whoami")
    .description("show the user the token belongs to")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, options: { json?: boolean }) {
      const me = await client(this).request<Reply<typeof Me>>("GET", "me");
      if (options.json) return printJson(me);
      printLine(`${me.handle}${me.isAdmin ? " (admin)" : ""}`);
      for (const c of me.communities) printLine(`  ${c.role} of ${c.handle}`);
    });

  program
    .command("follow <target>")
    .description("follow a community or person by @handle@host or actor URL")
    .option("--as <community>", "subscribe a community you steward instead of yourself")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, target: string, options: { as?: string; json?: boolean }) {
      const follow = await client(this).request<FollowView>("POST", "follows", { target, as: options.as });
      if (options.json) return printJson(follow);
      printLine(`Follow of ${follow.actor.handle ?? follow.actor.iri} sent (${follow.state}); id ${follow.id}.`);
    });

  program
    .command("unfollow <target>")
    .description("stop following; target is the id from `following`, a @handle@host or an actor URL")
    .option("--as <community>", "act for a community you steward")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, target: string, options: { as?: string; json?: boolean }) {
      const api = client(this);
      const following = await api.request<FollowView[]>("GET", "follows", undefined, { as: options.as });
      const wanted = target.replace(/^@/, "");
      const match = following.find(
        (f) => String(f.id) === target || f.actor.iri === target || f.actor.handle?.replace(/^@/, "") === wanted,
      );
      if (!match) throw new FedalignError(`Not following ${target}; see \`fedalign following\`.`);
      const removed = await api.request<FollowView>("DELETE", `follows/${match.id}`, undefined, { as: options.as });
      if (options.json) return printJson(removed);
      printLine(`Unfollowed ${removed.actor.handle ?? removed.actor.iri}.`);
    });

  program
    .command("following")
    .description("list what you (or a community) follow and whether each follow was accepted")
    .option("--as <community>", "list a community's subscriptions")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, options: { as?: string; json?: boolean }) {
      const rows = await client(this).request<FollowView[]>("GET", "follows", undefined, { as: options.as });
      if (options.json) return printJson(rows);
      printFollows(rows, "Not following anyone yet.");
    });

  program
    .command("followers")
    .description("list your (or a community's) followers and follow requests")
    .option("--as <community>", "list a community's followers")
    .option("--pending", "only requests waiting for approval")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, options: { as?: string; pending?: boolean; json?: boolean }) {
      const rows = await client(this).request<FollowView[]>("GET", "followers", undefined, {
        as: options.as,
        state: options.pending ? "pending" : undefined,
      });
      if (options.json) return printJson(rows);
      printFollows(rows, options.pending ? "No pending follow requests." : "No followers yet.");
    });

  for (const answer of ["approve", "reject"] as const) {
    program
      .command(`${answer}-follower <id>`)
      .description(answer === "approve" ? "approve a pending follow request" : "reject a follow request or remove a follower")
      .option("--as <community>", "answer for a community you steward")
      .option("--json", "print the result as JSON")
      .action(async function (this: Command, id: string, options: { as?: string; json?: boolean }) {
        const path = `followers/${encodeURIComponent(id)}/${answer === "approve" ? "accept" : "reject"}`;
        const follow = await client(this).request<FollowView>("POST", path, undefined, { as: options.as });
        if (options.json) return printJson(follow);
        printLine(`${answer === "approve" ? "Approved" : "Rejected"} ${follow.actor.handle ?? follow.actor.iri}.`);
      });
  }
}
