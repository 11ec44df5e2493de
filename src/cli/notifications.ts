/**
 * `fedalign notifications`: what happened to you (replies, offers decided,
 * proposals, new versions, follow requests), newest first; listing marks
 * nothing read, `--read ID,...` or `--read-all` does.
 */
import type { Command } from "commander";
import { InvalidInputError } from "../errors.ts";
import type { MarkReadResult, NotificationPage } from "../api/schemas/notifications.ts";
import { clientFor, type Reply } from "./client.ts";
import { printJson, printLine, printTable } from "./output.ts";

export function registerNotificationCommands(program: Command): void {
  program
    .command("notifications")
    .description("list your notifications, newest first (listing marks nothing read); --read or --read-all marks them read")
    .option("--unread", "only unread ones")
    .option("--page <n>", "an older page (20 a page)")
    .option("--read <ids>", "mark these read (comma-separated ids from the list)")
    .option("--read-all", "mark every notification read")
    .option("--json", "print the result as JSON")
    .action(async function (this: Command, options: { unread?: boolean; page?: string; read?: string; readAll?: boolean; json?: boolean }) {
      const api = clientFor(this);
      if (options.read !== undefined || options.readAll) {
        const ids = options.read?.split(",").map((id) => Number(id.trim()));
        if (ids?.some((id) => !Number.isInteger(id) || id <= 0)) throw new InvalidInputError("--read takes notification ids separated by commas, e.g. --read 3,4.");
        const result = await api.request<Reply<typeof MarkReadResult>>("POST", "notifications/read", options.readAll ? { all: true } : { ids });
        return options.json ? printJson(result) : printLine(`Marked ${result.marked} read; ${result.unread} unread.`);
      }
      const page = await api.request<Reply<typeof NotificationPage>>("GET", "notifications", undefined, {
        page: options.page,
        unread: options.unread ? "true" : undefined,
      });
      if (options.json) return printJson(page);
      if (page.items.length === 0) return printLine(options.unread ? "Nothing unread." : "No notifications.");
      printTable(
        ["ID", "", "WHEN", "WHAT", "LINK"],
        page.items.map((item) => [String(item.id), item.read ? "" : "new", item.createdAt.slice(0, 16).replace("T", " "), item.text, item.url]),
      );
      printLine(`${page.unread} unread.${page.more ? ` Older: --page ${page.page + 1}.` : ""}`);
    });
}
