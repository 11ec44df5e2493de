/** Web pages for this area; see src/web/web.tsx for the shared middleware. */
import { Hono } from "hono";
import type { WebEnv } from "../context.ts";

export function followPages() {
  const pages = new Hono<WebEnv>();
  return pages;
}
