"use client";

import { QueryCache, QueryClient, QueryClientProvider, MutationCache } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, httpSubscriptionLink, splitLink, TRPCClientError } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { useState, type ReactNode } from "react";
import superjson from "superjson";
import type { AppRouter } from "@/server/trpc/routers/_app";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** An expired session sends the user to sign-in, remembering the page they were on. */
const toSignIn = (error: unknown) => {
  if (typeof window === "undefined") return;
  if (error instanceof TRPCClientError && error.data?.code === "UNAUTHORIZED" && !window.location.pathname.startsWith("/login")) {
    const next = window.location.pathname + window.location.search;
    // A full navigation on purpose: it drops every cached query of the expired session.
    // eslint-disable-next-line @next/next/no-location-assign-relative-destination
    window.location.assign(`/login?next=${encodeURIComponent(next)}&expired=1`);
  }
};

const makeQueryClient = () =>
  new QueryClient({
    queryCache: new QueryCache({ onError: toSignIn }),
    mutationCache: new MutationCache({ onError: toSignIn }),
    defaultOptions: {
      queries: {
        staleTime: 10_000,
        retry: (count, error) => !(error instanceof TRPCClientError && ["UNAUTHORIZED", "FORBIDDEN", "BAD_REQUEST", "NOT_FOUND"].includes(error.data?.code)) && count < 2,
      },
    },
  });

export const TRPCReactProvider = ({ children }: { children: ReactNode }) => {
  const [queryClient] = useState(makeQueryClient);
  const [trpcClient] = useState(() =>
    createTRPCClient<AppRouter>({
      links: [
        splitLink({
          condition: (op) => op.type === "subscription",
          true: httpSubscriptionLink({ url: "/api/trpc", transformer: superjson }),
          false: httpBatchLink({ url: "/api/trpc", transformer: superjson }),
        }),
      ],
    }),
  );
  return (
    <QueryClientProvider client={queryClient}>
      <TRPCProvider trpcClient={trpcClient} queryClient={queryClient}>
        {children}
      </TRPCProvider>
    </QueryClientProvider>
  );
};

/** The list of invalid fields a BAD_REQUEST carries (see server/trpc/init.ts). */
export const fieldErrors = (error: unknown): Record<string, string> => {
  if (!(error instanceof TRPCClientError)) return {};
  const fields = (error.data as { fields?: { path: string; message: string }[] | null } | undefined)?.fields ?? [];
  const out: Record<string, string> = Object.fromEntries(fields.map((f) => [f.path, f.message]));
  return out;
};
