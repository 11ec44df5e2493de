/**
 * What the `fedalign` launcher decides before loading anything else: which
 * command runs, and whether Node must be restarted with the JSON flag.
 * Kept free of imports so that deciding costs nothing.
 */

export const JSON_FLAG = "--harmony-json-parse-with-source";

/**
 * Commands that load Fedify and run long enough for JSON speed to matter.
 * Importing Fedify on Node 20 without the flag swaps in a JSON.stringify about
 * ten times slower (README, "Node 20"); every other command runs in one process.
 */
const FEDIFY_COMMANDS = new Set(["serve"]);

/** Global options that take a value, so their value is not taken for the command. */
const VALUE_OPTIONS = new Set(["--server", "--token"]);

/** The top-level command named in argv (without node and script), if any. */
export function commandName(argv: readonly string[]): string | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (VALUE_OPTIONS.has(arg)) i++;
    else if (!arg.startsWith("-")) return arg;
  }
  return undefined;
}

/** True when this process must be restarted with the JSON flag before running argv. */
export function needsJsonFlagRelaunch(argv: readonly string[], nodeVersion = process.versions.node, execArgv = process.execArgv): boolean {
  const major = Number(nodeVersion.split(".")[0]);
  const command = commandName(argv);
  return major < 22 && command !== undefined && FEDIFY_COMMANDS.has(command) && !execArgv.includes(JSON_FLAG);
}
