import { describe, expect, it } from "vitest";
import { startProgress } from "../src/cli/progress.ts";

/** A stand-in for standard error when piped: not a terminal, keeps what is written. */
function pipe(): NodeJS.WriteStream & { text: string } {
  const stream = { isTTY: false, text: "", write(chunk: string) { stream.text += chunk; return true; } };
  return stream as unknown as NodeJS.WriteStream & { text: string };
}

describe("progress when piped", () => {
  it("prints plain lines once the run is long: at most one per interval, a new stage at once, and the last", async () => {
    let now = 0;
    const stream = pipe();
    const progress = await startProgress({ label: "pull", unit: "records", stream, intervalMs: 1000, now: () => now });
    progress.update({ value: 0, stage: "source", detail: "https://a.example/p" });
    for (let value = 1; value <= 45; value++) {
      now += 100;
      progress.update({ value, stage: value <= 30 ? "preferences" : "files", detail: "https://a.example/p" });
    }
    progress.stop();
    expect(stream.text.split("\n").filter(Boolean)).toEqual([
      "pull: preferences 10 records (https://a.example/p)",
      "pull: preferences 20 records (https://a.example/p)",
      "pull: preferences 30 records (https://a.example/p)",
      "pull: files 31 records (https://a.example/p)",
      "pull: files 41 records (https://a.example/p)",
      "pull: files 45 records (https://a.example/p)",
    ]);
    expect(stream.text).not.toContain("\r");
  });

  it("prints nothing for a quick run, so its result (or its one-line error) stands alone", async () => {
    const stream = pipe();
    const progress = await startProgress({ label: "upload", unit: "bytes", total: 10, stream, now: () => 0 });
    progress.update({ value: 10 });
    progress.stop();
    expect(stream.text).toBe("");
  });

  it("shows the total when it is known", async () => {
    let now = 0;
    const stream = pipe();
    const progress = await startProgress({ label: "upload", unit: "bytes", total: 10, stream, intervalMs: 1000, now: () => now });
    now = 1500;
    progress.update({ value: 4 });
    progress.stop();
    expect(stream.text).toBe("upload: 4/10 bytes\n");
  });
});
