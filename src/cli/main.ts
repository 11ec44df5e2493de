/**
 * The `fedalign` command. Every failure ends with one line on stderr that
 * says what to do, and a non-zero exit code.
 */
import { Command, CommanderError, Option } from "commander";
import { FedalignError } from "../errors.ts";
import { SOFTWARE_VERSION } from "../version.ts";
import { registerAdminCommands } from "./admin.ts";
import { registerMemberCommands } from "./member.ts";
import { registerPolicyCommands } from "./policy.ts";
import { registerForkCommands } from "./fork.ts";
import { registerOfferCommands } from "./offer.ts";
import { registerAnnotationCommands } from "./annotate.ts";
import { registerPreferenceCommands } from "./prefs.ts";
import { registerBundleCommands } from "./bundle.ts";
import { registerProposalCommands } from "./propose.ts";
import { registerStatementCommands } from "./statements.ts";
import { registerNotificationCommands } from "./notifications.ts";

/** Commander's usage errors, on one line with where to find help. */
const oneLineErrors = {
  outputError: (message: string, write: (text: string) => void) =>
    write(`fedalign: ${message.replace(/^error: /, "").trim().replace(/\s*\n\s*/g, " ")} (see --help)\n`),
};

export function buildProgram(): Command {
  const program = new Command("fedalign")
    .description("Fedalign: federated alignment policies and preference data over ActivityPub")
    .version(SOFTWARE_VERSION)
    .configureOutput(oneLineErrors)
    .option("--server <url>", "Fedalign server for member commands (env FEDALIGN_SERVER)")
    .option("--token <token>", "personal API token for member commands (env FEDALIGN_TOKEN)")
    .exitOverride();

  program
    .command("serve")
    .description("run an instance")
    .option("--port <n>", "port to listen on (env FEDALIGN_PORT, default 8080)")
    .option("--host <address>", "address to listen on (env FEDALIGN_HOST, default all interfaces)")
    .option("--origin <url>", "public origin of the instance (env FEDALIGN_ORIGIN, default http://localhost:<port>)")
    .option("--data <dir>", "data directory (env FEDALIGN_DATA, default ./data)")
    .option("--allow-private-address", "allow fetching loopback and private addresses, for local multi-instance setups (env FEDALIGN_ALLOW_PRIVATE_ADDRESS=true)")
    .addOption(new Option("--log-level <level>", "log level (env FEDALIGN_LOG_LEVEL, default info)").choices(["debug", "info", "warning", "error"]))
    .addOption(
      new Option("--role <role>", "web: answer HTTP only; worker: run queues and jobs only, listening nowhere; all: both (env FEDALIGN_ROLE, default all)").choices(["web", "worker", "all"]),
    )
    .action(async (options) => {
      // Only serve loads Fedify and the web layer; the shims Fedify needs on Node 20 go first.
      await import("../polyfills.ts");
      const { runServe } = await import("./serve.ts");
      await runServe(options);
    });

  registerAdminCommands(program);
  registerMemberCommands(program);
  registerPolicyCommands(program);
  registerForkCommands(program);
  registerOfferCommands(program);
  registerAnnotationCommands(program);
  registerPreferenceCommands(program);
  registerBundleCommands(program);
  registerProposalCommands(program);
  registerStatementCommands(program);
  registerNotificationCommands(program);
  program.commands.forEach(function configure(command: Command) {
    command.exitOverride().configureOutput(oneLineErrors);
    command.commands.forEach(configure);
  });
  return program;
}

export async function main(argv: string[]): Promise<void> {
  // `fedalign ... | head` closes the pipe early; that is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  const program = buildProgram();
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Commander has already printed its message (or help / version).
      process.exitCode = error.exitCode;
      return;
    }
    if (error instanceof FedalignError) {
      process.stderr.write(`fedalign: ${error.message}\n`);
    } else {
      process.stderr.write(`fedalign: unexpected error: ${error instanceof Error ? error.stack : String(error)}\n`);
    }
    process.exitCode = 1;
  }
}
