/**
 * The JSON API under /api/v1. Requests are validated with the zod schemas of
 * ./schemas.ts, which also produce the OpenAPI document at
 * /api/v1/openapi.json. Every error is application/problem+json.
 */
import { OpenAPIHono } from "@hono/zod-openapi";
import { getLogger } from "@logtape/logtape";
import { HTTPException } from "hono/http-exception";
import { ZodError } from "zod";
import { FedalignError, TooManyRequestsError } from "../errors.ts";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.ts";
import { accountRoutes } from "./account-routes.ts";
import { communityRoutes } from "./community-routes.ts";
import type { ApiDeps } from "./deps.ts";
import { followRoutes } from "./follow-routes.ts";
import { membershipRoutes } from "./membership-routes.ts";
import { forkRoutes } from "./fork-routes.ts";
import { offerRoutes } from "./offer-routes.ts";
import { annotationRoutes } from "./annotation-routes.ts";
import { preferenceRoutes } from "./preference-routes.ts";
import { bundleRoutes } from "./bundle-routes.ts";
import { proposalRoutes } from "./proposal-routes.ts";
import { notificationRoutes } from "./notification-routes.ts";
import { statementRoutes } from "./statement-routes.ts";
import { policyRoutes } from "./policy-routes.ts";
import { problem } from "../problem.ts";

const logger = getLogger(["fedalign", "api"]);

interface ZodIssueLike {
  path: PropertyKey[];
  message: string;
}

/** Validation failures name the field and what is wrong with it. */
function validationProblem(issues: readonly ZodIssueLike[], target: string): Response {
  const list = issues.map((issue) => ({ path: issue.path.map(String).join(".") || target, message: issue.message }));
  const detail = list.map((issue) => `${issue.path}: ${issue.message}`).join("; ");
  return problem(400, "Invalid request", detail, { issues: list });
}

/** "InvalidInputError" -> "Invalid input". */
function titleOf(error: FedalignError): string {
  const words = error.name.replace(/Error$/, "").replace(/([a-z])([A-Z])/g, "$1 $2");
  return words.charAt(0) + words.slice(1).toLowerCase();
}

export function createApi(deps: ApiDeps) {
  const api = new OpenAPIHono({
    defaultHook: (result, c) => {
      if (!result.success) return validationProblem(result.error.issues, result.target);
      return undefined;
    },
  });
  api.openAPIRegistry.registerComponent("securitySchemes", "bearer", {
    type: "http",
    scheme: "bearer",
    description: "A personal API token (`fedalign admin token create` or POST /api/v1/tokens)",
  });

  api.route("/", accountRoutes(deps));
  api.route("/", communityRoutes(deps));
  api.route("/", membershipRoutes(deps));
  api.route("/", followRoutes(deps));
  // Before policyRoutes: /policies/fork must not be read as /policies/{id}.
  api.route("/", forkRoutes(deps));
  api.route("/", policyRoutes(deps));
  api.route("/", offerRoutes(deps));
  api.route("/", annotationRoutes(deps));
  api.route("/", preferenceRoutes(deps));
  api.route("/", bundleRoutes(deps));
  api.route("/", proposalRoutes(deps));
  api.route("/", statementRoutes(deps));
  api.route("/", notificationRoutes(deps));

  api.doc31("/openapi.json", {
    openapi: "3.1.0",
    info: {
      title: "Fedalign API",
      version: SOFTWARE_VERSION,
      description: `JSON API of a ${SOFTWARE_NAME} instance. Errors are RFC 9457 problem details.`,
    },
    servers: [{ url: new URL("/api/v1", deps.origin).href }],
  });

  api.all("*", () => problem(404, "Not found", "No such API endpoint; see /api/v1/openapi.json."));
  api.onError((error) => {
    if (error instanceof FedalignError) {
      const response = problem(error.status, titleOf(error), error.message);
      if (error.status === 401) response.headers.set("WWW-Authenticate", 'Bearer realm="fedalign"');
      if (error instanceof TooManyRequestsError) response.headers.set("Retry-After", String(error.retryAfterSeconds));
      return response;
    }
    // A use case that refuses a field names it, as request validation does.
    if (error instanceof ZodError) return validationProblem(error.issues, "body");
    // Raised by Hono's body parsing before our validation runs.
    if (error instanceof HTTPException) {
      if (error.status === 415) {
        return problem(415, "Unsupported media type", "Send the request body as JSON with `Content-Type: application/json`.");
      }
      return problem(400, "Invalid JSON", `The request body could not be read as JSON: ${error.message}.`);
    }
    if (error instanceof SyntaxError) return problem(400, "Invalid JSON", "The request body is not valid JSON.");
    logger.error("Unexpected API error: {error}", { error });
    return problem(500, "Internal error", "Something went wrong on the server; the error was logged.");
  });
  return api;
}
