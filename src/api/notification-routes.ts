/**
 * Notifications: the signed-in person's list (reading marks nothing read)
 * and marking some or all of them read. Use cases: src/app/notifications.ts.
 */
import { OpenAPIHono, createRoute } from "@hono/zod-openapi";
import { listNotifications, markNotificationsRead } from "../app/notifications.ts";
import { optionalUser } from "./auth.ts";
import type { ApiDeps } from "./deps.ts";
import { jsonBody, jsonResponse, problemResponse, security } from "./schemas.ts";
import { MarkReadInput, MarkReadResult, NotificationPage, NotificationsQuery } from "./schemas/notifications.ts";

const list = createRoute({
  method: "get",
  path: "/notifications",
  tags: ["notifications"],
  summary: "Your notifications, newest first, 20 a page, with the unread count (reading them does not mark them read)",
  security,
  request: { query: NotificationsQuery },
  responses: { 200: jsonResponse(NotificationPage, "A page of notifications"), 401: problemResponse("Not signed in") },
});

const markRead = createRoute({
  method: "post",
  path: "/notifications/read",
  tags: ["notifications"],
  summary: "Mark notifications read: some by id, or all",
  security,
  request: { body: jsonBody(MarkReadInput) },
  responses: { 200: jsonResponse(MarkReadResult, "How many were marked and how many stay unread"), 400: problemResponse("Neither ids nor all"), 401: problemResponse("Not signed in") },
});

export function notificationRoutes(deps: ApiDeps) {
  const { db, context } = deps;
  const app = new OpenAPIHono();
  app.openapi(list, async (c) => c.json(await listNotifications(context, await optionalUser(c, db), c.req.valid("query")), 200));
  app.openapi(markRead, async (c) => c.json(await markNotificationsRead(context, await optionalUser(c, db), c.req.valid("json")), 200));
  return app;
}
