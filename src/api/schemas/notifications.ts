/**
 * Request and response schemas of notifications (src/app/notifications.ts):
 * what the routes validate and document, and what the CLI reads.
 */
import { z } from "@hono/zod-openapi";
import { NOTIFICATION_KINDS } from "../../../db/schema.ts";

export { MarkReadInput, NotificationsQuery } from "../../app/notifications.ts";

export const NotificationView = z
  .object({
    id: z.number().int(),
    kind: z.enum(NOTIFICATION_KINDS),
    text: z.string().openapi({ description: "One line of plain text, written when it happened" }),
    url: z.string().openapi({ description: "Where to look: an IRI (local ones are pages here)" }),
    subject: z.string().openapi({ description: "The IRI of what it is about (reply, offer, proposal, version or follow)" }),
    actor: z.string().nullable().openapi({ description: "Who caused it, when someone did" }),
    createdAt: z.string().datetime(),
    read: z.boolean(),
  })
  .openapi("Notification");

export const NotificationPage = z
  .object({
    items: z.array(NotificationView),
    page: z.number().int(),
    more: z.boolean().openapi({ description: "Whether there is an older page" }),
    unread: z.number().int().openapi({ description: "How many are unread in all" }),
  })
  .openapi("NotificationPage");

export const MarkReadResult = z
  .object({
    marked: z.number().int().openapi({ description: "How many were unread and are now read" }),
    unread: z.number().int(),
  })
  .openapi("MarkReadResult");
