/**
 * Hono integration for Fedify (the small job @fedify/hono does, which is not
 * available on our registry), plus a guard in front of the inboxes: bodies
 * over 1 MiB, bodies that are not JSON and activities of a type that is not
 * in the ActivityStreams vocabulary are refused with a 4xx before Fedify
 * spends a signature check or a queue slot on them.
 */
import type { Federation } from "@fedify/fedify";
import type { Context, MiddlewareHandler } from "hono";
import type { InstanceData } from "./context.ts";
import { problem } from "../src/problem.ts";
import { readLimited } from "./bounded-body.ts";
import { CLOSE_AFTER_REFUSAL } from "../src/http-edges.ts";

export const INBOX_BODY_LIMIT = 1024 * 1024;

const ACTIVITY_TYPES = new Set([
  "Accept", "Add", "Announce", "Arrive", "Block", "Create", "Delete", "Dislike", "Flag", "Follow",
  "Ignore", "Invite", "Join", "Leave", "Like", "Listen", "Move", "Offer", "Question", "Read",
  "Reject", "Remove", "TentativeAccept", "TentativeReject", "Travel", "Undo", "Update", "View",
  // Widely used extensions (Misskey / Pleroma reactions).
  "EmojiReact",
]);
const AS_NAMESPACE = "https://www.w3.org/ns/activitystreams#";

function isKnownType(type: unknown): boolean {
  const name = (value: unknown) =>
    typeof value === "string" ? value.replace(AS_NAMESPACE, "").replace(/^as:/, "") : "";
  const types = Array.isArray(type) ? type : [type];
  return types.some((t) => ACTIVITY_TYPES.has(name(t)));
}

function isInboxPost(request: Request): boolean {
  if (request.method !== "POST") return false;
  const path = new URL(request.url).pathname;
  return path === "/inbox" || /^\/actors\/[^/]+\/inbox$/.test(path);
}

async function guardInbox(request: Request): Promise<Request | Response> {
  const body = await readLimited(request, INBOX_BODY_LIMIT);
  if (body === undefined) {
    const refused = problem(413, "Activity too large", `Inbox bodies are limited to ${INBOX_BODY_LIMIT} bytes.`);
    for (const [name, value] of Object.entries(CLOSE_AFTER_REFUSAL)) refused.headers.set(name, value);
    return refused;
  }
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    return problem(400, "Invalid JSON", "The request body is not valid JSON.");
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    return problem(400, "Invalid activity", "An activity must be a JSON object.");
  }
  const type = (json as { type?: unknown }).type;
  if (!isKnownType(type)) {
    return problem(400, "Unknown activity type", `This inbox accepts ActivityStreams activities; got type ${JSON.stringify(type ?? null)}.`);
  }
  // Hand Fedify an untouched copy of the bytes: the Digest header covers them.
  return new Request(request.url, { method: request.method, headers: request.headers, body: body as Uint8Array<ArrayBuffer> });
}

export function federationMiddleware(
  federation: Federation<InstanceData>,
  contextData: (c: Context) => InstanceData,
): MiddlewareHandler {
  return async (c, next) => {
    let request: Request = c.req.raw;
    if (isInboxPost(request)) {
      const guarded = await guardInbox(request);
      if (guarded instanceof Response) return guarded;
      request = guarded;
    }
    return federation.fetch(request, {
      contextData: contextData(c),
      // Not a federation route: let the web and API routes answer.
      onNotFound: async () => {
        await next();
        return c.res;
      },
      // A browser asked for an actor: show the HTML page if there is one.
      onNotAcceptable: async () => {
        await next();
        if (c.res.status !== 404) return c.res;
        return new Response("Not acceptable: ask for application/activity+json.", {
          status: 406,
          headers: { "Content-Type": "text/plain; charset=utf-8", Vary: "Accept" },
        });
      },
    });
  };
}
