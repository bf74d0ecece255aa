"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";

const TABS = [
  { href: "/flex", label: "Market", id: "market" },
  { href: "/flex/requests", label: "Requests", id: "requests" },
  { href: "/flex/activations", label: "Activations", id: "activations" },
  { href: "/flex/settlements", label: "Settlements", id: "settlements" },
  { href: "/flex/ev-chargers", label: "EV chargers", id: "ev-chargers" },
];

/** Market / Requests / Activations / Settlements. */
export const FlexNav = () => {
  const pathname = usePathname();
  const current = (href: string) => (href === "/flex" ? pathname === "/flex" : pathname.startsWith(href));
  return (
    <nav className="subnav" aria-label="Flex market">
      {TABS.map((t) => (
        <Link key={t.href} href={t.href} aria-current={current(t.href) ? "page" : undefined} data-testid={`flex-tab-${t.id}`}>
          {t.label}
        </Link>
      ))}
    </nav>
  );
};
