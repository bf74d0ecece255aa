"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useMe } from "../../_components/session";

const TABS = [
  { href: "/monitoring", label: "Sites", admin: false },
  { href: "/monitoring/alarms", label: "Alarms", admin: false },
  { href: "/monitoring/flags", label: "Feature flags", admin: true },
];

/** Sites / Alarms / Feature flags (admins only); site and device pages count as Sites. */
export const MonitoringNav = () => {
  const pathname = usePathname();
  const { can } = useMe();
  const current = (href: string) => (href === "/monitoring" ? !TABS.slice(1).some((t) => pathname.startsWith(t.href)) : pathname.startsWith(href));
  return (
    <nav className="subnav" aria-label="Monitoring">
      {TABS.filter((t) => !t.admin || can("monitoring.admin")).map((t) => (
        <Link key={t.href} href={t.href} aria-current={current(t.href) ? "page" : undefined} data-testid={`monitoring-tab-${t.label.split(" ")[0]!.toLowerCase()}`}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
};
