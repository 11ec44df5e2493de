/**
 * `fedalign admin ...`: commands an administrator runs on the server's own
 * machine, directly against the data directory (they work whether or not
 * the server is running; SQLite's WAL and busy timeout let both write).
 */
import type { Command } from "commander";
import type { Db } from "../../db/client.ts";
import { REGISTRATION_MODES, type RegistrationMode } from "../accounts/registration-modes.ts";
import { InvalidInputError } from "../errors.ts";
import { readStdin } from "./input.ts";
import { printJson, printLine, printTable } from "./output.ts";

// Domain modules are imported when a command runs, so `--help` and the member commands never load the database layer.
async function withData<T>(dataFlag: string | undefined, action: (db: Db) => Promise<T> | T): Promise<T> {
  const [{ closeDatabase }, { openInstanceDatabase }, { resolveDataDir }] = await Promise.all([
    import("../../db/client.ts"),
    import("../../db/open.ts"),
    import("../config.ts"),
  ]);
  const db = openInstanceDatabase(resolveDataDir(dataFlag), "must-exist");
  try {
    return await action(db);
  } finally {
    closeDatabase(db);
  }
}

const DATA_HELP = "data directory of the instance (env FEDALIGN_DATA, default ./data)";

export function registerAdminCommands(program: Command): void {
  const admin = program.command("admin").description("administer the instance whose data directory is on this machine");

  const user = admin.command("user").description("local user accounts");
  user
    .command("create <username>")
    .description("create a local user; the password is read from standard input")
    .requiredOption("--password-stdin", "read the password from standard input (required)")
    .option("--admin", "make the user an instance admin")
    .option("--display-name <text>", "name shown to others (default: the username)")
    .option("--data <dir>", DATA_HELP)
    .option("--json", "print the result as JSON")
    .action(async (username: string, options: { admin?: boolean; displayName?: string; data?: string; json?: boolean }) => {
      const { createUser } = await import("../accounts/users.ts");
      const created = await withData(options.data, async (db) => {
        const password = await readStdin();
        if (!password) {
          throw new InvalidInputError("No password on standard input: pipe one in, e.g. `echo \"$PASSWORD\" | fedalign admin user create ...`.");
        }
        return createUser(db, { username, password, isAdmin: options.admin ?? false, displayName: options.displayName });
      });
      if (options.json) printJson({ username: created.username, isAdmin: created.isAdmin });
      else printLine(`Created ${created.isAdmin ? "admin" : "user"} ${created.username}.`);
    });

  const token = admin.command("token").description("personal API tokens");
  token
    .command("create <username>")
    .description("create an API token for a user and print it alone on standard output")
    .option("--label <text>", "what the token is for", "cli")
    .option("--data <dir>", DATA_HELP)
    .action(async (username: string, options: { label: string; data?: string }) => {
      const [{ createToken }, { getUserByUsername }] = await Promise.all([import("../accounts/tokens.ts"), import("../accounts/users.ts")]);
      const created = await withData(options.data, async (db) => createToken(db, (await getUserByUsername(db, username)).id, options.label));
      printLine(created.token);
    });

  const community = admin.command("community").description("communities");
  community
    .command("create <handle>")
    .description("create a community with a first steward")
    .requiredOption("--name <text>", "display name of the community")
    .requiredOption("--steward <username>", "local user who becomes its first steward")
    .option("--summary <text>", "what the community is about", "")
    .option("--approve-followers", "approve followers by hand instead of accepting them automatically")
    .option("--data <dir>", DATA_HELP)
    .option("--json", "print the result as JSON")
    .action(
      async (
        handle: string,
        options: { name: string; steward: string; summary: string; approveFollowers?: boolean; data?: string; json?: boolean },
      ) => {
        const [{ createCommunity }, { getUserByUsername }] = await Promise.all([import("../communities.ts"), import("../accounts/users.ts")]);
        const created = await withData(options.data, async (db) =>
          createCommunity(db, {
            handle,
            name: options.name,
            summary: options.summary,
            steward: await getUserByUsername(db, options.steward),
            manuallyApprovesFollowers: options.approveFollowers ?? false,
          }),
        );
        if (options.json) printJson({ handle: created.handle, name: created.name, steward: options.steward });
        else printLine(`Created community ${created.handle} ("${created.name}") with steward ${options.steward}.`);
      },
    );
  community
    .command("list")
    .description("list the communities of this instance")
    .option("--data <dir>", DATA_HELP)
    .option("--json", "print the result as JSON")
    .action(async (options: { data?: string; json?: boolean }) => {
      const { listCommunities } = await import("../communities.ts");
      const rows = await withData(options.data, (db) => listCommunities(db));
      if (options.json) printJson(rows.map((c) => ({ handle: c.handle, name: c.name })));
      else if (rows.length === 0) printLine("No communities yet.");
      else printTable(["HANDLE", "NAME"], rows.map((c) => [c.handle, c.name]));
    });

  admin
    .command("registrations [mode]")
    .description(`show or set who may sign up: ${REGISTRATION_MODES.join(", ")} (open to anyone, by invite code, or nobody; default closed)`)
    .option("--data <dir>", DATA_HELP)
    .option("--json", "print the result as JSON")
    .action(async (mode: string | undefined, options: { data?: string; json?: boolean }) => {
      if (mode !== undefined && !(REGISTRATION_MODES as readonly string[]).includes(mode)) {
        throw new InvalidInputError(`Registration mode must be one of ${REGISTRATION_MODES.join(", ")}, not "${mode}".`);
      }
      const { getRegistrationMode, setRegistrationMode } = await import("../accounts/registration.ts");
      const current = await withData(options.data, (db) => (mode ? setRegistrationMode(db, mode as RegistrationMode) : getRegistrationMode(db)));
      if (options.json) printJson({ mode: current });
      else printLine(mode ? `Registrations are now ${current}.` : `Registrations are ${current}.`);
    });

  admin
    .command("migrate")
    .description("copy this instance's SQLite database whole into an empty PostgreSQL database (keys, signed documents, queued deliveries)")
    .requiredOption("--to <url>", "the target database, postgres://user:password@host:5432/name; it must hold no Fedalign rows")
    .option("--batch-size <n>", "rows read and written at a time", "1000")
    .option("--data <dir>", DATA_HELP)
    .option("--json", "print the per-table summary as JSON")
    .action(async (options: { to: string; batchSize?: string; data?: string; json?: boolean }) => {
      const { runMigrate } = await import("./migrate.ts");
      await runMigrate(options);
    });

  const invite = admin.command("invite").description("invite codes for sign-up when registrations are invite-only");
  invite
    .command("create")
    .description("create an invite code and print it alone on standard output")
    .option("--uses <n>", "how many sign-ups it allows (default: no limit)")
    .option("--expires <iso>", "when it stops working, an ISO 8601 date and time, e.g. 2030-01-31T12:00:00Z (default: never)")
    .option("--data <dir>", DATA_HELP)
    .option("--json", "print the invite as JSON")
    .action(async (options: { uses?: string; expires?: string; data?: string; json?: boolean }) => {
      let maxUses: number | undefined;
      if (options.uses !== undefined) {
        maxUses = Number(options.uses);
        if (!/^\d+$/.test(options.uses) || maxUses < 1) throw new InvalidInputError(`--uses must be a whole number of at least 1, not "${options.uses}".`);
      }
      let expiresAt: Date | undefined;
      if (options.expires !== undefined) {
        expiresAt = new Date(options.expires);
        if (!/^\d{4}-\d{2}-\d{2}/.test(options.expires) || Number.isNaN(expiresAt.getTime())) {
          throw new InvalidInputError(`--expires must be an ISO 8601 date and time such as 2030-01-31T12:00:00Z, not "${options.expires}".`);
        }
        if (expiresAt.getTime() <= Date.now()) throw new InvalidInputError(`--expires must be in the future; ${options.expires} has passed.`);
      }
      const { createInvite } = await import("../accounts/registration.ts");
      const created = await withData(options.data, (db) => createInvite(db, { maxUses, expiresAt }));
      if (options.json) printJson(inviteJson(created));
      else printLine(created.code);
    });
  invite
    .command("list")
    .description("list invite codes with their uses and expiry")
    .option("--data <dir>", DATA_HELP)
    .option("--json", "print the result as JSON")
    .action(async (options: { data?: string; json?: boolean }) => {
      const { listInvites } = await import("../accounts/registration.ts");
      const rows = await withData(options.data, (db) => listInvites(db));
      if (options.json) printJson(rows.map(inviteJson));
      else if (rows.length === 0) printLine("No invites yet.");
      else
        printTable(
          ["ID", "CODE", "USES", "EXPIRES", "STATE"],
          rows.map((row) => [String(row.id), row.code, `${row.uses}/${row.maxUses ?? "∞"}`, row.expiresAt?.toISOString() ?? "never", row.state]),
        );
    });
  invite
    .command("revoke <id>")
    .description("revoke an invite code by its id (see `invite list`)")
    .option("--data <dir>", DATA_HELP)
    .action(async (id: string, options: { data?: string }) => {
      if (!/^\d+$/.test(id)) throw new InvalidInputError(`The invite id must be a number, not "${id}".`);
      const { revokeInvite } = await import("../accounts/registration.ts");
      const revoked = await withData(options.data, (db) => revokeInvite(db, Number(id)));
      printLine(`Revoked invite ${revoked.id} (${revoked.code}).`);
    });
}

function inviteJson(invite: { id: number; code: string; maxUses: number | null; uses: number; expiresAt: Date | null; state: string }) {
  return {
    id: invite.id,
    code: invite.code,
    maxUses: invite.maxUses,
    uses: invite.uses,
    expiresAt: invite.expiresAt?.toISOString() ?? null,
    state: invite.state,
  };
}
