/** Moved to ./entities/actor.ts (one module per entity); kept for the modules that import it from here. */
export * from "./entities/actor.ts";
