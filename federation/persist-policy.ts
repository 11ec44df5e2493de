/** Moved to ./entities/version.ts (one module per entity); kept for the modules that import it from here. */
export * from "./entities/version.ts";
