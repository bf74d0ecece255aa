"use client";

import { useQuery } from "@tanstack/react-query";
import { createContext, useContext, useMemo, type ReactNode } from "react";
import { useTRPC } from "@/app/_trpc/client";
import { ROLE_LABELS, type Permission, type Role } from "@/contracts/console/permissions";

/** The signed-in user as the console layout read it from the database. */
export type ConsoleUser = {
  id: string;
  email: string;
  name: string;
  role: Role;
  roleLabel: string;
  participantId: string | null;
  participantName: string | null;
  regions: string[];
  permissions: Permission[];
};

const SessionContext = createContext<ConsoleUser | null>(null);

export const SessionProvider = ({ user, children }: { user: ConsoleUser; children: ReactNode }) => (
  <SessionContext.Provider value={user}>{children}</SessionContext.Provider>
);

/**
 * The current user and what they may do. Starts from what the layout rendered with and
 * follows `me.get`, so a role change shows without a full reload.
 */
export const useMe = () => {
  const initial = useContext(SessionContext);
  if (!initial) throw new Error("useMe() outside the console layout");
  const trpc = useTRPC();
  const { data } = useQuery(trpc.me.get.queryOptions(undefined, { staleTime: 30_000 }));
  return useMemo(() => {
    const permissions = data?.permissions ?? initial.permissions;
    return {
      user: {
        ...initial,
        ...(data ? { name: data.name, role: data.role, roleLabel: ROLE_LABELS[data.role], participantId: data.participantId, regions: data.regions } : {}),
        permissions,
      },
      can: (permission: Permission) => permissions.includes(permission),
    };
  }, [data, initial]);
};
