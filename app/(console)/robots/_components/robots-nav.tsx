"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const TABS = [
  { href: "/robots", label: "Map & robots" },
  { href: "/robots/tasks", label: "Tasks" },
];

/** Map & robots / Tasks; a task page counts as Tasks. */
export const RobotsNav = () => {
  const pathname = usePathname();
  const current = (href: string) => (href === "/robots" ? !pathname.startsWith("/robots/tasks") : pathname.startsWith(href));
  return (
    <nav className="subnav" aria-label="Robots">
      {TABS.map((t) => (
        <Link key={t.href} href={t.href} aria-current={current(t.href) ? "page" : undefined} data-testid={`robots-tab-${t.href === "/robots" ? "map" : "tasks"}`}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
};
