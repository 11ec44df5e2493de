/**
 * Logging through LogTape, which Fedify already uses: one sink on stderr so
 * that stdout stays for command output (`admin token create` prints only the
 * token). Fedify's own categories log at the same level as ours, but its
 * per-request debug chatter only shows at `debug`.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { configureSync, getTextFormatter, type LogLevel, type Sink } from "@logtape/logtape";

let configured = false;

export function configureLogging(level: LogLevel): void {
  if (configured) return;
  configured = true;
  const format = getTextFormatter({ timestamp: "date-time" });
  const stderr: Sink = (record) => {
    process.stderr.write(format(record));
  };
  configureSync({
    sinks: { stderr },
    contextLocalStorage: new AsyncLocalStorage(),
    loggers: [
      { category: ["fedalign"], lowestLevel: level, sinks: ["stderr"] },
      { category: ["fedify"], lowestLevel: level === "debug" ? "debug" : "warning", sinks: ["stderr"] },
      // Fedify logs every non-2xx response, including our web and API 404s.
      { category: ["fedify", "federation", "http"], lowestLevel: level === "debug" ? "debug" : "error", sinks: ["stderr"] },
      { category: ["logtape", "meta"], lowestLevel: "warning", sinks: ["stderr"] },
    ],
  });
}
