import { TRPCClientError } from "@trpc/client";

/** The message to show for a failed call: the server's words, or a plain fallback. */
export const errorMessage = (error: unknown, fallback = "Something went wrong. Try again."): string => {
  if (error instanceof TRPCClientError) {
    if (error.data?.code === "FORBIDDEN") return error.message || "You don't have access to this.";
    if (error.message && !error.message.startsWith("[")) return error.message;
    return fallback;
  }
  if (error instanceof Error && error.message) return error.message;
  return fallback;
};

export const isForbidden = (error: unknown) => error instanceof TRPCClientError && error.data?.code === "FORBIDDEN";

/**
 * Field messages keyed by the form's field names: "regions.0" counts for "regions", and a
 * message for a path the form does not show is returned as `other`.
 */
export const formErrors = (fields: Record<string, string>, known: readonly string[]) => {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const [path, message] of Object.entries(fields)) {
    const key = known.find((k) => path === k || path.startsWith(`${k}.`));
    if (key) byField[key] ??= message;
    else other.push(path ? `${path}: ${message}` : message);
  }
  return { byField, other };
};
