/**
 * OpenAI preference (DPO) fine-tuning lines:
 * {"input": {"messages": [...], "tools"?: [...], "parallel_tool_calls"?: bool},
 *  "preferred_output": [assistant message], "non_preferred_output": [assistant message]}.
 *
 * - The prompt is input.messages; each output list must hold assistant
 *   messages only, their contents joined with a blank line if there are
 *   several (OpenAI expects one).
 * - Tool definitions cannot be stored with a record, so a non-empty
 *   input.tools is an error rather than a silently different prompt;
 *   parallel_tool_calls is ignored. Messages making tool calls are errors.
 * - responses = [preferred, non-preferred], choice = 0; identical ones are an error.
 */
import {
  LineError,
  describe,
  pairRecord,
  parseJsonObject,
  parseWith,
  readAssistantOutput,
  readMessages,
  type ParseDefaults,
  type ParsedLine,
} from "./common.ts";

export function parseOpenAiLine(text: string, line: number, defaults: ParseDefaults): ParsedLine {
  return parseWith(line, () => {
    const object = parseJsonObject(text);
    const input = object.input;
    if (input === undefined) throw new LineError(`"input" is missing`);
    if (typeof input !== "object" || input === null || Array.isArray(input)) {
      throw new LineError(`"input" must be an object with "messages", found ${describe(input)}`);
    }
    const { messages, tools } = input as Record<string, unknown>;
    if (messages === undefined) throw new LineError(`"input.messages" is missing`);
    if (tools !== undefined && tools !== null && !(Array.isArray(tools) && tools.length === 0)) {
      throw new LineError(`"input.tools" is not supported: preference records carry no tool definitions`);
    }
    const prompt = readMessages(messages, "input.messages");
    for (const key of ["preferred_output", "non_preferred_output"]) {
      if (object[key] === undefined) throw new LineError(`"${key}" is missing`);
    }
    const preferred = readAssistantOutput(object.preferred_output, "preferred_output");
    const other = readAssistantOutput(object.non_preferred_output, "non_preferred_output");
    return pairRecord(prompt, preferred, other, line, defaults);
  });
}
