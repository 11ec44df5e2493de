import { describe, expect, it } from "vitest";
import { startProgress } from "../src/cli/progress.ts";

/** A stand-in for standard error when piped: not a terminal, keeps what is written. */
function pipe(): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY: false, text: "", write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe("progress when piped", () => {
  it("prints plain lines: the first, each new stage, at most one per interval, and the last", async () => {
    let now = 0;
    const stream = pipe();
    const progress = await startProgress({ label: "pull", unit: "records", stream, intervalMs: 1000, now: () => now });
    progress.update({ value: 0, stage: "source", detail: "https://a.example/p" });
    for (let value = 1; value <= 50; value++) {
      now += 100;
      progress.update({ value, stage: "preferences", detail: "https://a.example/p" });
    }
    progress.stop();
    expect(stream.text.split("\n").filter(Boolean)).toEqual([
      "pull: source 0 records (https://a.example/p)",
      "pull: preferences 1 records (https://a.example/p)",
      "pull: preferences 11 records (https://a.example/p)",
      "pull: preferences 21 records (https://a.example/p)",
      "pull: preferences 31 records (https://a.example/p)",
      "pull: preferences 41 records (https://a.example/p)",
      "pull: preferences 50 records (https://a.example/p)",
    ]);
    expect(stream.text).not.toContain("\r");
  });

  it("shows the total when it is known, and nothing more at the end when the last line was current", async () => {
    const stream = pipe();
    const progress = await startProgress({ label: "upload", unit: "bytes", total: 10, stream, now: () => 0 });
    progress.update({ value: 10 });
    progress.stop();
    expect(stream.text).toBe("upload: 10/10 bytes\n");
  });
});
