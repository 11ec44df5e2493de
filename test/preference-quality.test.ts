/** The checks that keep records a training pipeline would trip on out of bundles. */
import { describe, expect, it } from "vitest";
import { recordFlaws } from "../src/preferences/quality.ts";

type Role = "system" | "developer" | "user" | "assistant" | "tool";
const turn = (role: Role, content = `${role} says`) => ({ role, content });
const record = (roles: Role[], responses = ["good", "bad"]) => ({
  prompt: roles.map((role) => turn(role)),
  responses: responses.map((content) => ({ content })),
  choice: 0,
  consent: { train: true, federate: true, breakdown: false },
});

describe("recordFlaws", () => {
  it("passes ordinary conversations, with instructions first and tool results after a call", () => {
    expect(recordFlaws(record(["user"]))).toEqual([]);
    expect(recordFlaws(record(["system", "developer", "user", "assistant", "user"]))).toEqual([]);
    expect(recordFlaws(record(["user", "assistant", "tool", "tool"]))).toEqual([]);
  });

  it("finds empty answers, turns out of order, prompts with no user turn or ending with the assistant, and tool messages without a call", () => {
    expect(recordFlaws(record(["user"], ["good", "  "]))).toEqual(["empty-response"]);
    expect(recordFlaws(record(["user", "user"]))).toEqual(["roles-not-alternating"]);
    expect(recordFlaws(record(["developer"]))).toEqual(["roles-not-alternating"]);
    expect(recordFlaws(record(["user", "assistant"]))).toEqual(["roles-not-alternating"]);
    expect(recordFlaws(record(["user", "tool"]))).toEqual(["tool-without-call"]);
    expect(recordFlaws(record(["tool", "user"], ["", "x"]))).toEqual(["empty-response", "tool-without-call"]);
  });

  it("calls anything that is not a record malformed, and checks nothing else then", () => {
    expect(recordFlaws(null as never)).toEqual(["malformed"]);
    expect(recordFlaws({ prompt: [], responses: [{ content: "a" }, { content: "b" }] } as never)).toEqual(["malformed"]);
    expect(recordFlaws({ ...record(["user"]), responses: [{ content: "only one" }] } as never)).toEqual(["malformed"]);
    expect(recordFlaws({ ...record(["user"]), choice: 5 } as never)).toEqual(["malformed"]);
  });
});
