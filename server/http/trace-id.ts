import "server-only";
import { randomUUID } from "node:crypto";

/** The caller's trace id (`x-trace-id`, else W3C `traceparent`), or a fresh one. */
export const traceIdOf = (headers: Headers) => headers.get("x-trace-id") ?? headers.get("traceparent")?.split("-")[1] ?? randomUUID();
