"use client";

import { memo, useEffect, useMemo, useRef, useState, type KeyboardEvent } from "react";
import type { BuildingMap, Level } from "@/contracts/rmf";
import type { DoorView, LiftView, RobotView } from "@/server/connectors/rmf";
import { doorMode, liftColour } from "./robot-badges";
import type { RobotFeed } from "./use-robots";

type Listen = RobotFeed["listen"];

export type MapSelection = { kind: "robot" | "door" | "lift"; name: string };

/** Where a robot is drawn from and heading to; the frame loop interpolates between the two. */
type Motion = { fx: number; fy: number; fyaw: number; tx: number; ty: number; tyaw: number; t0: number; dur: number; lastAt: number; version: number; drawn: number };

/** Counters the map benchmark reads (bench/rmf-map): updates received for robots on the shown level, drawn, and skipped (overtaken before a frame showed them). */
export type MapStats = { received: number; drawn: number; skipped: number; frames: number };
declare global {
  interface Window {
    __switchyardMapStats?: MapStats;
  }
}

const PAD = 2;
const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
/** The shortest turn from a to b (radians). */
const turn = (a: number, b: number) => Math.atan2(Math.sin(b - a), Math.cos(b - a));

const boundsOf = (level: Level) => {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const v of [level.wall_graph, ...level.nav_graphs].flatMap((g) => g.vertices).concat(level.places.map((p) => ({ ...p, name: p.name, params: [] })))) {
    xs.push(v.x);
    ys.push(v.y);
  }
  if (xs.length === 0) return { x: -10, y: -10, w: 20, h: 20 };
  const [minX, maxX, minY, maxY] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  // SVG's y grows downwards; RMF's map frame has y up, so every y is drawn as -y.
  return { x: minX - PAD, y: -maxY - PAD, w: maxX - minX + 2 * PAD, h: maxY - minY + 2 * PAD };
};

const activate = (fn: () => void) => ({
  onClick: fn,
  onKeyDown: (e: KeyboardEvent) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      fn();
    }
  },
});

/**
 * The robots of one level, drawn without React: each update becomes the target of its robot,
 * and every animation frame moves each robot part of the way there, so a 10 Hz feed is drawn
 * smoothly and every update is shown. React renders only when robots join or leave the level.
 */
const RobotLayer = ({ listen, level, selected, onSelect }: { listen: Listen; level: string; selected: string | null; onSelect: (s: MapSelection) => void }) => {
  const [onLevel, setOnLevel] = useState<RobotView[]>([]);
  const nodes = useRef(new Map<string, { outer: SVGGElement; heading: SVGGElement; x: number; y: number; yaw: number }>());
  const motion = useRef(new Map<string, Motion>());
  const shown = useRef(new Set<string>());

  useEffect(() => {
    const stats = (window.__switchyardMapStats ??= { received: 0, drawn: 0, skipped: 0, frames: 0 });
    return listen((message, robots) => {
      const now = performance.now();
      const changed = message.kind === "snapshot" ? message.items : message.upserts;
      for (const r of changed) {
        const at = r.location;
        if (!at) continue;
        const m = motion.current.get(r.key);
        if (!m || message.kind === "snapshot") {
          motion.current.set(r.key, { fx: at.x, fy: at.y, fyaw: at.yaw, tx: at.x, ty: at.y, tyaw: at.yaw, t0: now, dur: 1, lastAt: now, version: (m?.version ?? 0) + 1, drawn: m?.drawn ?? 0 });
        } else {
          const k = clamp((now - m.t0) / m.dur, 0, 1);
          m.fx += (m.tx - m.fx) * k;
          m.fy += (m.ty - m.fy) * k;
          m.fyaw += turn(m.fyaw, m.tyaw) * k;
          m.tx = at.x;
          m.ty = at.y;
          m.tyaw = at.yaw;
          m.t0 = now;
          // Reach this position about when the next update is due.
          m.dur = clamp(now - m.lastAt, 30, 500);
          m.lastAt = now;
          m.version++;
        }
        if (at.map === level) stats.received++;
        const node = nodes.current.get(r.key);
        if (node && node.outer.dataset.status !== (r.status ?? "unknown")) node.outer.dataset.status = r.status ?? "unknown";
      }
      for (const key of message.kind === "changes" ? message.removed : []) motion.current.delete(key);
      // Only a robot joining or leaving the level re-renders the layer; moves never do.
      let joined = message.kind === "snapshot" || message.removed.length > 0;
      for (const r of changed) if ((r.location?.map === level) !== shown.current.has(r.key)) joined = true;
      if (!joined) return;
      const next = [...robots.values()].filter((r) => r.location?.map === level).sort((a, b) => (a.key < b.key ? -1 : 1));
      const keys = new Set(next.map((r) => r.key));
      if (keys.size === shown.current.size && [...keys].every((k) => shown.current.has(k))) return;
      shown.current = keys;
      setOnLevel(next);
    });
  }, [listen, level]);

  useEffect(() => {
    let frame = 0;
    const stats = (window.__switchyardMapStats ??= { received: 0, drawn: 0, skipped: 0, frames: 0 });
    const draw = () => {
      const now = performance.now();
      stats.frames++;
      for (const [key, node] of nodes.current) {
        const m = motion.current.get(key);
        if (!m) continue;
        const k = clamp((now - m.t0) / m.dur, 0, 1);
        const x = m.fx + (m.tx - m.fx) * k;
        const y = m.fy + (m.ty - m.fy) * k;
        const yaw = m.fyaw + turn(m.fyaw, m.tyaw) * k;
        // Skip writes the eye cannot see (under 1 cm, under ~0.5°): each one costs the browser a style and layout pass.
        // (NaN, before the first write, never compares as small.)
        if (!(Math.abs(x - node.x) + Math.abs(y - node.y) <= 0.01)) {
          node.outer.setAttribute("transform", `translate(${x.toFixed(3)} ${(-y).toFixed(3)})`);
          node.x = x;
          node.y = y;
        }
        if (!(Math.abs(turn(node.yaw, yaw)) <= 0.01)) {
          node.heading.setAttribute("transform", `rotate(${((-yaw * 180) / Math.PI).toFixed(1)})`);
          node.yaw = yaw;
        }
        if (m.version !== m.drawn) {
          stats.drawn++;
          stats.skipped += Math.max(0, m.version - m.drawn - 1);
          m.drawn = m.version;
        }
      }
      frame = requestAnimationFrame(draw);
    };
    frame = requestAnimationFrame(draw);
    return () => cancelAnimationFrame(frame);
  }, []);

  return (
    <g className="map-robots">
      {onLevel.map((r) => (
        <g
          key={r.key}
          ref={(el) => {
            const heading = el?.querySelector<SVGGElement>(".map-robot-heading");
            if (el && heading) nodes.current.set(r.key, { outer: el, heading, x: NaN, y: NaN, yaw: NaN });
            else nodes.current.delete(r.key);
          }}
          className={`map-robot ${selected === r.key ? "is-selected" : ""}`}
          data-status={r.status ?? "unknown"}
          data-testid={`map-robot-${r.name}`}
          role="button"
          tabIndex={0}
          aria-label={`Robot ${r.name} (${r.fleet})`}
          {...activate(() => onSelect({ kind: "robot", name: r.key }))}
        >
          <title>{`${r.name} (${r.fleet})`}</title>
          <g className="map-robot-heading">
            <circle r={0.55} />
            <line x1={0} y1={0} x2={0.8} y2={0} />
          </g>
          <text y={-0.9} textAnchor="middle">
            {r.name}
          </text>
        </g>
      ))}
    </g>
  );
};

type BuildingMapViewProps = {
  map: BuildingMap;
  level: string;
  /** The robot feed's `listen` (stable): updates reach the map without re-rendering it. */
  listen: Listen;
  doors: ReadonlyMap<string, DoorView>;
  lifts: ReadonlyMap<string, LiftView>;
  selected: MapSelection | null;
  onSelect: (s: MapSelection) => void;
};

/**
 * One level of the building: walls, lanes, places, doors and lifts coloured by state, robots
 * moving live. Memoized: the page around it re-renders (its table, its clock) without
 * touching the SVG.
 */
export const BuildingMapView = memo(function BuildingMapView({ map, level: levelName, listen, doors, lifts, selected, onSelect }: BuildingMapViewProps) {
  const level = map.levels.find((l) => l.name === levelName) ?? map.levels[0];
  const box = useMemo(() => (level ? boundsOf(level) : null), [level]);
  if (!level || !box) return <div className="empty">This building map has no levels.</div>;
  const line = (g: Level["wall_graph"], className: string) =>
    g.edges.map((e, i) => {
      const a = g.vertices[e.v1_idx];
      const b = g.vertices[e.v2_idx];
      return a && b ? <line key={`${className}-${i}`} className={className} x1={a.x} y1={-a.y} x2={b.x} y2={-b.y} /> : null;
    });
  const isSel = (kind: MapSelection["kind"], name: string) => selected?.kind === kind && selected.name === name;
  return (
    <svg className="building-map" viewBox={`${box.x} ${box.y} ${box.w} ${box.h}`} role="img" aria-label={`Map of level ${level.name}`} data-testid="building-map" data-level={level.name}>
      <g aria-hidden="true">
        {line(level.wall_graph, "map-wall")}
        {level.nav_graphs.map((g) => line(g, "map-lane"))}
        {level.places.map((p) => (
          <g key={p.name} className="map-place" transform={`translate(${p.x} ${-p.y})`}>
            <circle r={0.25} />
            {p.name.startsWith("charger_") ? null : (
              <text y={0.9} textAnchor="middle">
                {p.name}
              </text>
            )}
          </g>
        ))}
      </g>
      {level.doors.map((d) => {
        const mode = doorMode(doors.get(d.name)?.state ?? null);
        return (
          <line
            key={d.name}
            className={`map-door ${isSel("door", d.name) ? "is-selected" : ""}`}
            x1={d.v1_x}
            y1={-d.v1_y}
            x2={d.v2_x}
            y2={-d.v2_y}
            stroke={mode.colour}
            data-testid={`map-door-${d.name}`}
            data-mode={mode.label.toLowerCase()}
            role="button"
            tabIndex={0}
            aria-label={`Door ${d.name}: ${mode.label.toLowerCase()}`}
            {...activate(() => onSelect({ kind: "door", name: d.name }))}
          />
        );
      })}
      {map.lifts
        .filter((l) => l.levels.includes(level.name))
        .map((l) => (
          <rect
            key={l.name}
            className={`map-lift ${isSel("lift", l.name) ? "is-selected" : ""}`}
            x={l.ref_x - l.width / 2}
            y={-l.ref_y - l.depth / 2}
            width={l.width}
            height={l.depth}
            transform={`rotate(${(-l.ref_yaw * 180) / Math.PI} ${l.ref_x} ${-l.ref_y})`}
            fill={liftColour(lifts.get(l.name)?.state ?? null, level.name)}
            data-testid={`map-lift-${l.name}`}
            role="button"
            tabIndex={0}
            aria-label={`Lift ${l.name}`}
            {...activate(() => onSelect({ kind: "lift", name: l.name }))}
          />
        ))}
      <RobotLayer listen={listen} level={level.name} selected={selected?.kind === "robot" ? selected.name : null} onSelect={onSelect} />
    </svg>
  );
});
