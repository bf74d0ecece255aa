"use client";

import { useEffect, useId, useRef, useState } from "react";
import { authClient } from "@/app/_auth/client";
import { useMe } from "./session";

const initials = (name: string, email: string) =>
  (name.trim() || email)
    .split(/[\s@._-]+/)
    .filter(Boolean)
    .slice(0, 2)
    .map((p) => p[0]!.toUpperCase())
    .join("");

export const UserMenu = () => {
  const { user } = useMe();
  const [open, setOpen] = useState(false);
  const [signingOut, setSigningOut] = useState(false);
  const rootRef = useRef<HTMLDivElement>(null);
  const buttonRef = useRef<HTMLButtonElement>(null);
  const panelId = useId();

  useEffect(() => {
    if (!open) return;
    const onPointer = (event: PointerEvent) => {
      if (!rootRef.current?.contains(event.target as Node)) setOpen(false);
    };
    const onKey = (event: KeyboardEvent) => {
      if (event.key === "Escape") {
        setOpen(false);
        buttonRef.current?.focus();
      }
    };
    document.addEventListener("pointerdown", onPointer);
    document.addEventListener("keydown", onKey);
    return () => {
      document.removeEventListener("pointerdown", onPointer);
      document.removeEventListener("keydown", onKey);
    };
  }, [open]);

  const signOut = async () => {
    setSigningOut(true);
    try {
      await authClient().signOut();
    } finally {
      // A full load drops every cached query and open subscription of the signed-out user.
      // eslint-disable-next-line @next/next/no-location-assign-relative-destination
      window.location.assign("/login");
    }
  };

  return (
    <div className="user-menu" ref={rootRef}>
      <button
        ref={buttonRef}
        type="button"
        className="user-button"
        aria-expanded={open}
        aria-controls={panelId}
        onClick={() => setOpen((o) => !o)}
        data-testid="user-menu-button"
      >
        <span className="avatar" aria-hidden="true">
          {initials(user.name, user.email)}
        </span>
        <span className="user-button-text">
          <span>{user.name || user.email}</span>
          <small>
            {user.roleLabel}
            {user.participantName || user.participantId ? ` · ${user.participantName ?? user.participantId}` : ""}
          </small>
        </span>
        <span className="sr-only">Account menu</span>
      </button>
      {open ? (
        <div className="user-panel" id={panelId} data-testid="user-menu">
          <dl>
            <dt>Name</dt>
            <dd>{user.name}</dd>
            <dt>Email</dt>
            <dd>{user.email}</dd>
            <dt>Role</dt>
            <dd data-testid="user-role">{user.roleLabel}</dd>
            {user.role === "trader" ? (
              <>
                <dt>Participant</dt>
                <dd>{user.participantName ? `${user.participantName} (${user.participantId})` : (user.participantId ?? "—")}</dd>
              </>
            ) : null}
            {user.regions.length ? (
              <>
                <dt>Regions</dt>
                <dd>{user.regions.join(", ")}</dd>
              </>
            ) : null}
          </dl>
          <button type="button" className="btn btn-block" onClick={signOut} disabled={signingOut} data-testid="sign-out">
            {signingOut ? <span className="spinner" aria-hidden="true" /> : null}
            Sign out
          </button>
        </div>
      ) : null}
    </div>
  );
};
