import { toNextJsHandler } from "better-auth/next-js";
import { auth } from "@/server/auth";
import { db } from "@/server/db";
import { env } from "@/server/env";
import { auditRefusal, guardRequest } from "@/server/http/guard-request";
import { authGuard } from "@/server/http/request-limits";

export const dynamic = "force-dynamic";

/**
 * better-auth at its conventional /api/auth (the instance is created on first use), behind
 * the body cap; better-auth checks origins itself against PUBLIC_URL.
 */
const handler = (method: "GET" | "POST") => async (req: Request) => {
  const guarded = await guardRequest(req, { db: db(), ...authGuard(env()) });
  if (!guarded.ok) return guarded.response;
  const response = await toNextJsHandler(auth())[method](guarded.request);
  // better-auth's own rate limit answers before any hook sees the request (X-Retry-After
  // marks it; sign-in throttling audits itself and sends Retry-After): audit it here.
  if (response.status === 429 && response.headers.has("x-retry-after")) {
    const retry = response.headers.get("x-retry-after");
    await auditRefusal({ db: db(), request: guarded.request, ip: guarded.ip }, { action: "request.rate_limited", message: `rate limited, retry in ${retry} s`, input: { retryAfterSeconds: Number(retry) } });
  }
  return response;
};

export const GET = handler("GET");
export const POST = handler("POST");
