/**
 * The one zod every module imports. It is extended with `.openapi()` before
 * any schema is built, because zod 4 attaches methods per instance: a schema
 * made before the extension could not be reused in the OpenAPI document.
 */
import { extendZodWithOpenApi } from "@asteasolutions/zod-to-openapi";
import { z } from "zod";

extendZodWithOpenApi(z);

export { z };
