"use client";

import Link from "next/link";
import { usePathname } from "next/navigation";
import { useEffect, useState, type ReactNode } from "react";
import { HealthBar } from "./health-bar";
import { Icon } from "./icons";
import { LiveHealthProvider } from "./live-health";
import { isCurrent, type NavItem } from "./nav-items";
import { SessionProvider, type ConsoleUser } from "./session";
import { CommandFeedProvider } from "./ui/command-feed";
import { UserMenu } from "./user-menu";

type Props = { user: ConsoleUser; nav: NavItem[]; children: ReactNode };

const NavList = ({ items, pathname }: { items: NavItem[]; pathname: string }) => (
  <ul>
    {items.map((item) => (
      <li key={item.href}>
        <Link href={item.href} aria-current={isCurrent(item.href, pathname) ? "page" : undefined} data-testid={`nav-${item.href}`}>
          <Icon name={item.icon} />
          {item.label}
        </Link>
      </li>
    ))}
  </ul>
);

/** Sidebar, header (live health, user menu) and content; below 760px the sidebar is a top bar. */
export const Shell = ({ user, nav, children }: Props) => {
  const pathname = usePathname();
  const [menuOpen, setMenuOpen] = useState(false);
  const [lastPath, setLastPath] = useState(pathname);
  if (lastPath !== pathname) {
    // A navigation closes the small-screen menu.
    setLastPath(pathname);
    setMenuOpen(false);
  }

  // Marks the page as interactive (React has attached its handlers): e2e waits for it before
  // clicking, so a click never lands on server-rendered HTML that does nothing yet.
  useEffect(() => {
    document.documentElement.dataset.hydrated = "true";
  }, []);

  useEffect(() => {
    if (!menuOpen) return;
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && setMenuOpen(false);
    document.addEventListener("keydown", onKey);
    return () => document.removeEventListener("keydown", onKey);
  }, [menuOpen]);

  const main = nav.filter((item) => !item.section);
  const admin = nav.filter((item) => item.section === "Admin");

  return (
    <SessionProvider user={user}>
      <LiveHealthProvider>
        <CommandFeedProvider allowed={user.permissions.includes("commands.read")}>
        <a className="skip-link" href="#content">
          Skip to content
        </a>
        <div className="shell">
          <aside className="sidebar" data-open={menuOpen}>
            <div className="sidebar-head">
              <Link href="/" className="brand">
                <span className="brand-mark" aria-hidden="true" />
                Switchyard
              </Link>
              <button
                type="button"
                className="menu-button"
                aria-expanded={menuOpen}
                aria-controls="console-nav"
                onClick={() => setMenuOpen((o) => !o)}
                data-testid="menu-button"
              >
                <svg width="16" height="16" viewBox="0 0 24 24" fill="none" stroke="currentColor" strokeWidth={2} aria-hidden="true">
                  <path d={menuOpen ? "M6 6l12 12M18 6L6 18" : "M4 6h16M4 12h16M4 18h16"} />
                </svg>
                Menu
              </button>
            </div>
            <nav className="nav" id="console-nav" aria-label="Main">
              <NavList items={main} pathname={pathname} />
              {admin.length ? (
                <>
                  <div className="nav-section">Admin</div>
                  <NavList items={admin} pathname={pathname} />
                </>
              ) : null}
            </nav>
            <div className="sidebar-foot">Signed in as {user.roleLabel.toLowerCase()}</div>
          </aside>
          <div className="main">
            <header className="topbar">
              <HealthBar />
              <UserMenu />
            </header>
            <main className="content" id="content" tabIndex={-1}>
              {children}
            </main>
          </div>
        </div>
        </CommandFeedProvider>
      </LiveHealthProvider>
    </SessionProvider>
  );
};
