/** Web pages for participation: proposals and votes, decision rules, statements and opinion groups. */
import { Hono } from "hono";
import type { WebEnv } from "../context.ts";
import { proposalPages } from "./proposal-pages.tsx";
import { proposalBuilderPages } from "./proposal-builder-pages.tsx";
import { statementPages } from "./statement-pages.tsx";

export function participationPages() {
  const pages = new Hono<WebEnv>();
  pages.route("/", proposalPages());
  pages.route("/", proposalBuilderPages());
  pages.route("/", statementPages());
  return pages;
}
