"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const TABS = [
  { href: "/charging", label: "Stations" },
  { href: "/charging/transactions", label: "Transactions" },
  { href: "/charging/tokens", label: "Tokens" },
];

/** Stations / Transactions / Tokens; a station page counts as Stations. */
export const ChargingNav = () => {
  const pathname = usePathname();
  const current = (href: string) =>
    href === "/charging" ? !TABS.slice(1).some((t) => pathname.startsWith(t.href)) : pathname.startsWith(href);
  return (
    <nav className="subnav" aria-label="Charging">
      {TABS.map((t) => (
        <Link key={t.href} href={t.href} aria-current={current(t.href) ? "page" : undefined} data-testid={`charging-tab-${t.label.toLowerCase()}`}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
};
