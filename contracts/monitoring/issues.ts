import type { z } from "zod";

/**
 * Field errors with the paths senders recognise (`datasets[0].data[0].pack.dock: must be ≤ 48`):
 * array indices in brackets, object keys joined by dots. Shared by the ingest, the simulator's
 * tests and the console, so every side words a bad field the same way.
 */
export type FieldIssue = { path: string; message: string };

export const formatPath = (path: readonly PropertyKey[], prefix = "") =>
  path.reduce<string>((out, part) => (typeof part === "number" ? `${out}[${part}]` : out ? `${out}.${String(part)}` : String(part)), prefix);

export const issuesOf = (error: z.ZodError, prefix = ""): FieldIssue[] =>
  error.issues.flatMap((issue) => {
    // One line per unknown key, named by its own path, so a typo is pointed at directly.
    if (issue.code === "unrecognized_keys") return issue.keys.map((key) => ({ path: formatPath([...issue.path, key], prefix), message: "is not a known field" }));
    return [{ path: formatPath(issue.path, prefix) || prefix || "body", message: issue.message }];
  });

export const describeIssues = (issues: FieldIssue[]) => issues.map((i) => `${i.path}: ${i.message}`).join("; ");
