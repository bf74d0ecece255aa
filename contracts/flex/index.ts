export * from "./entities";
export * from "./mqtt";
export * from "./api";
export * from "./canonical";
