/**
 * The one permission matrix: roles → permissions. Every tRPC procedure declares one of
 * these in its meta (a test walks the router to prove it), and the navigation shows only
 * what a role may use. The server enforces regardless of what the UI shows.
 */
export const ROLES = ["admin", "operator", "trader", "support", "viewer"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = [
  "overview.read",
  "health.read",
  "commands.read",
  "system.ping",
  "audit.read",
  "audit.export",
  "admin.users.read",
  "admin.users.write",
  "charging.read",
  "charging.command",
  "robots.read",
  "robots.command",
  "flex.read",
  "flex.trade",
  "flex.bridge",
  "monitoring.read",
  "monitoring.command",
  "monitoring.admin",
] as const;
export type Permission = (typeof PERMISSIONS)[number];

/** `public` needs no session; `session` needs any signed-in user (their own profile). */
export type ProcedurePermission = Permission | "public" | "session";

const READ_DOMAINS: Permission[] = ["overview.read", "health.read", "charging.read", "robots.read", "flex.read", "monitoring.read"];

export const ROLE_PERMISSIONS: Record<Role, readonly Permission[]> = {
  admin: PERMISSIONS,
  // Operators run the floor: they dispatch robot tasks, work doors and lifts, and acknowledge
  // monitoring alarms, and choose which charge stations take part in the flex market (the
  // bridge then limits them through the charging command path); ad-hoc remote commands to
  // charge stations stay with support.
  operator: [...READ_DOMAINS, "commands.read", "audit.read", "audit.export", "robots.command", "monitoring.command", "flex.bridge"],
  trader: ["overview.read", "health.read", "flex.read", "flex.trade", "commands.read"],
  support: [...READ_DOMAINS, "commands.read", "system.ping", "charging.command", "robots.command", "monitoring.command"],
  viewer: READ_DOMAINS,
};

export const ROLE_LABELS: Record<Role, string> = {
  admin: "Admin",
  operator: "Operator",
  trader: "Trader",
  support: "Support",
  viewer: "Viewer",
};

export const isRole = (value: unknown): value is Role => typeof value === "string" && (ROLES as readonly string[]).includes(value);

export const can = (role: string | null | undefined, permission: ProcedurePermission): boolean => {
  if (permission === "public") return true;
  if (!isRole(role)) return false;
  if (permission === "session") return true;
  return ROLE_PERMISSIONS[role].includes(permission);
};

export const permissionsOf = (role: string | null | undefined): Permission[] => (isRole(role) ? [...ROLE_PERMISSIONS[role]] : []);
