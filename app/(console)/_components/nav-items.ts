import type { Permission } from "@/contracts/console/permissions";

export type NavIcon = "overview" | "commands" | "audit" | "users" | "charging" | "robots" | "flex" | "monitoring";

export type NavItem = {
  href: string;
  label: string;
  /** Only roles with this permission see the entry (the server enforces regardless). */
  permission: Permission;
  icon: NavIcon;
  section?: "Admin";
};

/** The console's navigation, one line per destination; domains add theirs here. */
export const NAV_ITEMS: NavItem[] = [
  { href: "/", label: "Overview", permission: "overview.read", icon: "overview" },
  { href: "/charging", label: "Charging", permission: "charging.read", icon: "charging" },
  { href: "/monitoring", label: "Monitoring", permission: "monitoring.read", icon: "monitoring" },
  { href: "/robots", label: "Robots", permission: "robots.read", icon: "robots" },
  { href: "/flex", label: "Flex market", permission: "flex.read", icon: "flex" },
  { href: "/commands", label: "Commands", permission: "commands.read", icon: "commands" },
  { href: "/audit", label: "Audit log", permission: "audit.read", icon: "audit" },
  { href: "/admin/users", label: "Users", permission: "admin.users.read", icon: "users", section: "Admin" },
];

/** Whether `href` is the page at `pathname` or one of its sub-pages. */
export const isCurrent = (href: string, pathname: string) =>
  href === "/" ? pathname === "/" : pathname === href || pathname.startsWith(`${href}/`);
