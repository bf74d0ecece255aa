import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { auth } from "@/server/auth";
import { db } from "@/server/db";
import { env } from "@/server/env";
import { guardRequest } from "@/server/http/guard-request";
import { trpcGuard } from "@/server/http/request-limits";
import { createContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/routers/_app";

export const dynamic = "force-dynamic";

/**
 * The one tRPC endpoint: queries, mutations and SSE subscriptions. A foreign-origin
 * mutation or an oversized body is refused (and audited) before any session lookup.
 */
const handler = async (req: Request) => {
  const guarded = await guardRequest(req, { db: db(), ...trpcGuard(env()) });
  if (!guarded.ok) return guarded.response;
  const { request } = guarded;
  return fetchRequestHandler({
    endpoint: "/api/trpc",
    req: request,
    router: appRouter,
    createContext: () => createContext({ db: db(), auth: auth(), headers: request.headers }),
  });
};

export { handler as GET, handler as POST };
