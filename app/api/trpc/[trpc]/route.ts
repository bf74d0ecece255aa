import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { auth } from "@/server/auth";
import { db } from "@/server/db";
import { createContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/routers/_app";

export const dynamic = "force-dynamic";

/** The one tRPC endpoint: queries, mutations and SSE subscriptions. */
const handler = (req: Request) =>
  fetchRequestHandler({
    endpoint: "/api/trpc",
    req,
    router: appRouter,
    createContext: () => createContext({ db: db(), auth: auth(), headers: req.headers }),
  });

export { handler as GET, handler as POST };
