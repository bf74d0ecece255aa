"use client";

import { createColumnHelper } from "@tanstack/react-table";
import { useMemo } from "react";
import { LinkBadge, LiveIndicator } from "../_components/badges";
import { useLiveHealth } from "../_components/live-health";
import { useMe } from "../_components/session";
import { DataTable } from "../_components/ui/data-table";
import { optionsOf, FilterBar, SelectFilter } from "../_components/ui/filters";
import { KpiTiles, type Kpi } from "../_components/ui/kpi-tiles";
import { errorMessage } from "../_components/ui/messages";
import { PageHeader } from "../_components/ui/page-header";
import { oneOf, useUrlState } from "../_components/ui/url-state";
import { FlexNav } from "./_components/flex-nav";
import { formatPeriod, formatPrice, formatW, formatWindow } from "./_components/format";
import { MeritChart } from "./_components/merit-chart";
import { DirectionLabel, FlexStatus } from "./_components/status";
import { useFlexBundles, useFlexContext, useFlexDepth, useFlexNodes, useFlexTrades, type FlexBundleRow, type FlexContext, type FlexNodeRow, type FlexTradeRow } from "./_components/use-flex";

const DIRECTIONS = ["up", "down"] as const;
const FILTERS = ["node", "grid", "dir", "bundle"] as const;

/** Each node's health and device counts (every 5 s from its feed), for operators. */
const NodeTiles = ({ nodes, context }: { nodes: ReadonlyMap<string, FlexNodeRow>; context: FlexContext | undefined }) => {
  const health = useLiveHealth();
  const ids = context?.nodes.map((n) => n.nodeId) ?? [...nodes.keys()];
  const items: Kpi[] = ids.flatMap((id) => {
    const n = nodes.get(id);
    const link = health.links.find((l) => l.id === `flex:${id}`);
    return [
      {
        id: `node-${id}`,
        label: `${id}${n ? ` (${n.role})` : ""}`,
        value: n ? `${n.devicesOnline} / ${n.devicesRegistered}` : "—",
        note: n ? `devices online · ${n.offersOpen} offers · ${n.requestsOpen} open requests` : "waiting for the node…",
        tone: link && link.state !== "connected" ? ("danger" as const) : undefined,
        testId: `flex-node-${id}`,
        children: (
          <span className="tile-note">
            {link ? <LinkBadge state={link.state} /> : null} {n?.lastRoundMs !== null && n?.lastRoundMs !== undefined ? `round ${n.lastRoundMs} ms` : ""}
            {n?.peers.length ? ` · peers ${n.peers.map((p) => `${p.nodeId}${p.connected ? "" : " (down)"}`).join(", ")}` : ""}
          </span>
        ),
      },
    ];
  });
  return <KpiTiles items={items} label="Flex nodes" testId="flex-nodes" />;
};

const bundleColumn = createColumnHelper<FlexBundleRow>();
const bundleColumns = [
  bundleColumn.accessor("windowStart", { header: "Window", meta: { className: "mono nowrap" }, cell: ({ row: { original: b } }) => formatWindow(b.windowStart, b.windowEnd) }),
  bundleColumn.accessor("gridNodeId", { header: "Grid node", meta: { className: "mono" } }),
  bundleColumn.accessor("direction", { header: "Direction", cell: ({ getValue }) => <DirectionLabel direction={getValue()} /> }),
  bundleColumn.accessor("status", { header: "Status", cell: ({ getValue }) => <FlexStatus status={getValue()} /> }),
  bundleColumn.accessor("offerCount", { header: "Offers", meta: { className: "num" } }),
  bundleColumn.accessor("availableW", { header: "Offered", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
  bundleColumn.accessor("totalW", { header: "Covers requests", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
  bundleColumn.accessor((b) => b.allocations.length, { id: "allocations", header: "Requests", meta: { className: "num" } }),
  bundleColumn.accessor("round", { header: "Round", meta: { className: "num" } }),
];

const tradeColumn = createColumnHelper<FlexTradeRow>();
const tradeColumns = [
  tradeColumn.accessor("period", { header: "Window", meta: { className: "mono nowrap" }, cell: ({ row: { original: t } }) => formatWindow(t.period, t.periodEnd) }),
  tradeColumn.accessor("requestId", { header: "Request", meta: { className: "mono" } }),
  tradeColumn.accessor("buyerId", { header: "Buyer", meta: { className: "mono" } }),
  tradeColumn.accessor("gridNodeId", { header: "Grid node", meta: { className: "mono" } }),
  tradeColumn.accessor("direction", { header: "Direction", cell: ({ getValue }) => <DirectionLabel direction={getValue()} /> }),
  tradeColumn.accessor("quantityW", { header: "Awarded", meta: { className: "num" }, cell: ({ getValue }) => formatW(getValue()) }),
  tradeColumn.accessor("clearingPrice", { header: "Clearing price", meta: { className: "num" }, cell: ({ getValue }) => formatPrice(getValue()) }),
  tradeColumn.accessor("deviceCount", { header: "Devices", meta: { className: "num" } }),
  tradeColumn.accessor("status", { header: "Status", cell: ({ getValue }) => <FlexStatus status={getValue()} /> }),
];

const newestWindowFirst = (a: { windowStart: number; gridNodeId: string; direction: string }, b: typeof a) =>
  b.windowStart - a.windowStart || a.gridNodeId.localeCompare(b.gridNodeId) || a.direction.localeCompare(b.direction);

/**
 * The market of one node: order-book depth per grid node and direction (the coming window's
 * merit curve, no identities), bundles re-formed every round with their merit curve, and
 * awards; node health for everyone but traders.
 */
export const MarketView = () => {
  const { user } = useMe();
  const context = useFlexContext();
  const nodes = useFlexNodes();
  const url = useUrlState(FILTERS);
  const nodeIds = context.data?.nodes.map((n) => n.nodeId) ?? [];
  // A trader's own node first: that is where their requests clear.
  const ownNode = context.data?.participants[0]?.nodeId;
  const nodeId = oneOf(nodeIds, url.values.node) ?? ownNode ?? nodeIds[0];
  const node = context.data?.nodes.find((n) => n.nodeId === nodeId);
  const depth = useFlexDepth(nodeId);
  const bundles = useFlexBundles(nodeId);
  const trades = useFlexTrades();

  const gridNodes = useMemo(() => [...new Set([...depth.items.values()].map((d) => d.gridNodeId))].sort(), [depth.items]);
  const gridNodeId = oneOf(gridNodes, url.values.grid) ?? node?.gridNodes.find((g) => gridNodes.includes(g)) ?? gridNodes[0];
  const direction = oneOf(DIRECTIONS, url.values.dir) ?? "up";
  const curve = [...depth.items.values()].find((d) => d.gridNodeId === gridNodeId && d.direction === direction);

  const bundleRows = useMemo(() => [...bundles.items.values()].sort(newestWindowFirst).slice(0, 200), [bundles.items]);
  const selectedBundle = bundleRows.find((b) => b.id === url.values.bundle) ?? bundleRows.find((b) => b.gridNodeId === gridNodeId && b.direction === direction);
  const tradeRows = [...trades.items.values()].filter((t) => !nodeId || t.nodeId === nodeId).sort((a, b) => b.period - a.period || a.requestId.localeCompare(b.requestId));

  if (context.isError) {
    return (
      <>
        <PageHeader title="Flex market" description="Order book, bundles and awards of the flexibility market." />
        <FlexNav />
        <div className="alert alert-info" role="status" data-testid="flex-off">
          <p>{errorMessage(context.error)}</p>
        </div>
      </>
    );
  }

  return (
    <>
      <PageHeader
        title="Flex market"
        description={node ? `Node ${node.nodeId} (${node.role ?? "…"}): windows of ${formatPeriod(node.periodMs)}, bundled every ${formatPeriod(node.bundleIntervalMs)}.` : "Order book, bundles and awards of the flexibility market."}
        actions={<LiveIndicator state={bundles.state} />}
      />
      <FlexNav />

      {user.role !== "trader" ? (
        <section className="section" aria-label="Flex nodes">
          <NodeTiles nodes={nodes.items} context={context.data} />
        </section>
      ) : null}

      <div className="section">
        <FilterBar label="Choose the order book" onClear={url.clear} canClear={url.any}>
          <SelectFilter label="Node" value={nodeId ?? ""} onChange={(v) => url.set({ node: v, grid: null, bundle: null })} options={nodeIds.map((id) => ({ value: id, label: id }))} testId="flex-node" />
          <SelectFilter label="Grid node" value={gridNodeId ?? ""} onChange={(v) => url.set({ grid: v, bundle: null })} options={gridNodes.length ? gridNodes.map((g) => ({ value: g, label: g })) : optionsOf("No offers yet", [])} testId="flex-grid" />
          <SelectFilter label="Direction" value={direction} onChange={(v) => url.set({ dir: v, bundle: null })} options={DIRECTIONS.map((d) => ({ value: d, label: d === "up" ? "Up" : "Down" }))} testId="flex-direction" />
        </FilterBar>
      </div>

      <div className="grid-2 section">
        <section className="card" aria-labelledby="depth-title">
          <div className="card-head">
            <h2 id="depth-title">Order-book depth</h2>
            <span className="muted">{curve ? `${curve.offerCount} offers for ${formatWindow(curve.windowStart, curve.windowStart + (node?.periodMs ?? 0))}` : ""}</span>
          </div>
          <div className="card-body">
            {!depth.received ? <div className="empty">Loading the order book…</div> : <MeritChart levels={curve?.levels ?? []} label={`Merit curve of ${gridNodeId ?? ""} ${direction}`} testId="flex-depth-chart" />}
          </div>
        </section>
        <section className="card" aria-labelledby="bundle-title">
          <div className="card-head">
            <h2 id="bundle-title">Bundle merit curve</h2>
            <span className="muted" data-testid="flex-bundle-caption">
              {selectedBundle ? `${selectedBundle.gridNodeId} ${selectedBundle.direction}, ${formatWindow(selectedBundle.windowStart, selectedBundle.windowEnd)} · ${selectedBundle.status} · round ${selectedBundle.round}` : ""}
            </span>
          </div>
          <div className="card-body">
            {selectedBundle ? <MeritChart levels={selectedBundle.meritOrder} markW={selectedBundle.totalW} label="Merit curve of the bundle" testId="flex-bundle-chart" /> : <div className="empty">No bundle yet: bundles form every round from the open offers.</div>}
          </div>
        </section>
      </div>

      <section className="section" aria-label="Bundles">
        <h2>Bundles</h2>
        <DataTable
          label="Bundles"
          columns={bundleColumns}
          rows={bundleRows}
          rowId={(b) => b.id}
          rowHref={(b) => `/flex?${new URLSearchParams({ ...(nodeId ? { node: nodeId } : {}), grid: b.gridNodeId, dir: b.direction, bundle: b.id })}`}
          rowAttrs={(b) => ({ "data-testid": `flex-bundle-${b.gridNodeId}-${b.direction}-${b.windowStart}`, "data-status": b.status, "data-allocations": b.allocations.length })}
          status={{ loading: !bundles.received }}
          noun="bundles"
          empty={{ title: "No bundles yet", hint: "The bundler groups the open offers of the coming window every round." }}
          sortParam={false}
          dense
          maxHeight={360}
          testId="flex-bundles"
        />
      </section>

      <section className="section" aria-label="Awards">
        <h2>Awards</h2>
        <DataTable
          label="Awards"
          columns={tradeColumns}
          rows={tradeRows}
          rowId={(t) => `${t.nodeId}/${t.id}`}
          rowHref={(t) => `/flex/activations?${new URLSearchParams({ trade: `${t.nodeId}/${t.id}` })}`}
          rowAttrs={(t) => ({ "data-testid": `flex-trade-${t.requestId}`, "data-status": t.status })}
          status={{ loading: !trades.received }}
          noun="awards"
          empty={{ title: "No awards yet", hint: user.role === "trader" ? "Your requests are matched when their window is sealed." : "Requests are matched when their window is sealed." }}
          sortParam="tsort"
          testId="flex-trades"
        />
      </section>
    </>
  );
};
