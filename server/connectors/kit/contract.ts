import "server-only";
import type { z } from "zod";
import { logger } from "../../../lib/log";
import { contractViolations } from "../../metrics";
import { UpstreamContractError, type UpstreamName } from "./upstream-errors";

const SHOWN_ISSUES = 3;

/**
 * Checks what an upstream sent against its contract. A violation is counted
 * (`upstream_contract_violations_total{upstream,what}`), logged with its first issues and
 * thrown as UpstreamContractError, so the caller never applies it.
 */
export const checkContract = <S extends z.ZodType>(schema: S, data: unknown, { what, ...name }: UpstreamName & { what: string }): z.output<S> => {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  throw contractViolation({ ...name, what, issues: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`) });
};

/** Counts and logs one violation and returns the error to throw (also for bodies that are not JSON at all). */
export const contractViolation = ({ what, issues, ...name }: UpstreamName & { what: string; issues: string[] }) => {
  contractViolations().inc({ upstream: name.upstream, what });
  const shown = issues.slice(0, SHOWN_ISSUES);
  logger().warn({ upstream: name.upstream, url: name.url, what, issues: shown, moreIssues: issues.length - shown.length }, "upstream broke its contract; dropped");
  return new UpstreamContractError({ ...name, what, issues: shown });
};
