import { toNextJsHandler } from "better-auth/next-js";
import { auth } from "@/server/auth";
import { db } from "@/server/db";
import { env } from "@/server/env";
import { guardRequest } from "@/server/http/guard-request";
import { authGuard } from "@/server/http/request-limits";

export const dynamic = "force-dynamic";

/**
 * better-auth at its conventional /api/auth (the instance is created on first use), behind
 * the body cap; better-auth checks origins itself against PUBLIC_URL.
 */
const handler = (method: "GET" | "POST") => async (req: Request) => {
  const guarded = await guardRequest(req, { db: db(), ...authGuard(env()) });
  if (!guarded.ok) return guarded.response;
  return toNextJsHandler(auth())[method](guarded.request);
};

export const GET = handler("GET");
export const POST = handler("POST");
