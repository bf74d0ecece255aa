"use client";

import Link from "next/link";
import type { ReactNode } from "react";

export type Kpi = {
  id: string;
  label: string;
  value: ReactNode;
  note?: ReactNode;
  tone?: "danger" | "warn" | "ok";
  /** Clicking the tile applies a filter; `active` says it is applied (the tile is a toggle). */
  onSelect?: () => void;
  active?: boolean;
  /** Or the tile leads to another page. */
  href?: string;
  /** What a click does, for assistive tech ("Show offline stations"). */
  action?: string;
  testId?: string;
  children?: ReactNode;
};

const TONE = { danger: "var(--danger)", warn: "var(--warn)", ok: "var(--ok)" } as const;

const TileBody = ({ kpi }: { kpi: Kpi }) => (
  <>
    <span className="tile-note">{kpi.label}</span>
    <span className="tile-value" style={kpi.tone ? { color: TONE[kpi.tone] } : undefined} data-value={typeof kpi.value === "string" || typeof kpi.value === "number" ? kpi.value : undefined}>
      {kpi.value}
    </span>
    {kpi.note ? <span className="tile-note">{kpi.note}</span> : null}
    {kpi.children}
    {kpi.action ? <span className="sr-only">. {kpi.action}</span> : null}
  </>
);

/** A row of figures; a tile with `onSelect` filters the view below it, one with `href` goes elsewhere. */
export const KpiTiles = ({ items, label, testId }: { items: Kpi[]; label: string; testId?: string }) => (
  <div className="tiles" role="group" aria-label={label} data-testid={testId}>
    {items.map((kpi) => {
      const id = kpi.testId ?? `kpi-${kpi.id}`;
      if (kpi.onSelect)
        return (
          <button key={kpi.id} type="button" className="tile tile-action" aria-pressed={kpi.active ?? false} onClick={kpi.onSelect} data-testid={id}>
            <TileBody kpi={kpi} />
          </button>
        );
      if (kpi.href)
        return (
          <Link key={kpi.id} href={kpi.href} className="tile tile-action" data-testid={id}>
            <TileBody kpi={kpi} />
          </Link>
        );
      return (
        <div key={kpi.id} className="tile" data-testid={id}>
          <TileBody kpi={kpi} />
        </div>
      );
    })}
  </div>
);
