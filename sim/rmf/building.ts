import type { BuildingMap, Door, Graph, Level, Lift } from "../../contracts/rmf";

/**
 * The simulated building: two floors joined by one lift, a corridor ("spine") per floor
 * with named places off it, a door on each floor, a dispenser and an ingestor for
 * deliveries, and a charging bay on L1 sized to the fleet (one charger per robot). Metres,
 * RMF's map frame (y up). The nav graph carries the door and lift on its edges, the way
 * RMF's traffic editor marks them, so robots know where they must wait.
 */
export type Vertex = { idx: number; level: string; x: number; y: number; name: string; charger?: boolean };
export type Edge = { a: number; b: number; door?: string; lift?: string };
export type Workcell = { guid: string; kind: "dispenser" | "ingestor"; place: string };

export type Building = {
  map: BuildingMap;
  vertices: Vertex[];
  edges: Edge[];
  places: Map<string, number>;
  chargers: number[];
  doors: { name: string; level: string }[];
  lift: { name: string; levels: string[]; vertexByLevel: Record<string, number> };
  workcells: Workcell[];
};

const LEVELS = [
  { name: "L1", elevation: 0, places: [["supplies", 5, -4], ["pantry", 10, 4], ["lounge", 20, 4], ["reception", 30, 4], ["hall", 40, 4]] as const, door: { name: "main_door", from: [35, 0], to: [40, 0] } },
  { name: "L2", elevation: 4, places: [["storage", 5, -4], ["lab", 10, 4], ["office_1", 20, 4], ["office_2", 30, 4], ["library", 40, 4]] as const, door: { name: "lab_door", from: [10, 0], to: [10, 4] } },
];
const LIFT = { name: "Lift1", x: 45, y: 0 };
const SPINE_XS = [0, 5, 10, 15, 20, 25, 30, 35, 40, 45];

const param = (name: string, value: string | boolean) =>
  typeof value === "boolean"
    ? { name, type: 4, value_int: 0, value_float: 0, value_string: "", value_bool: value }
    : { name, type: 1, value_int: 0, value_float: 0, value_string: value, value_bool: false };

const emptyGraph = (name = ""): Graph => ({ name, vertices: [], edges: [], params: [] });

const walls = (width: number, depth: number): Graph => {
  const corners = [
    [-3, -depth],
    [width, -depth],
    [width, 8],
    [-3, 8],
  ];
  return {
    name: "",
    vertices: corners.map(([x, y]) => ({ x, y, name: "", params: [] })),
    edges: corners.map((_, i) => ({ v1_idx: i, v2_idx: (i + 1) % corners.length, params: [], edge_type: 0 })),
    params: [],
  };
};

export const buildBuilding = ({ chargers }: { chargers: number }): Building => {
  const vertices: Vertex[] = [];
  const edges: Edge[] = [];
  const places = new Map<string, number>();
  const named = new Map<string, number>();
  const add = (v: Omit<Vertex, "idx">) => {
    const idx = vertices.length;
    vertices.push({ ...v, idx });
    if (v.name) named.set(`${v.level}:${v.name}`, idx);
    return idx;
  };
  const doors: Building["doors"] = [];
  const liftVertex: Record<string, number> = {};
  const chargerIdx: number[] = [];
  const perRow = 20;
  const bayRows = Math.max(1, Math.ceil(chargers / perRow));

  for (const level of LEVELS) {
    const spine = SPINE_XS.map((x) => add({ level: level.name, x, y: 0, name: x === LIFT.x ? `${LIFT.name.toLowerCase()}_${level.name}` : "" }));
    for (let i = 1; i < spine.length; i++) edges.push({ a: spine[i - 1], b: spine[i] });
    liftVertex[level.name] = spine[spine.length - 1];
    for (const [name, x, y] of level.places) {
      const s = spine[SPINE_XS.indexOf(x)];
      const p = add({ level: level.name, x, y, name });
      places.set(name, p);
      edges.push({ a: s, b: p });
    }
    const at = ([x, y]: readonly number[]) => vertices.findIndex((v) => v.level === level.name && v.x === x && v.y === y);
    const [from, to] = [at(level.door.from), at(level.door.to)];
    const edge = edges.find((e) => (e.a === from && e.b === to) || (e.a === to && e.b === from));
    if (edge) edge.door = level.door.name;
    doors.push({ name: level.door.name, level: level.name });
    if (level.name === "L1") {
      // Charging bay below the corridor: one row of chargers per 20 robots, each off a bay aisle.
      let prevAisle: number | undefined;
      for (let i = 0; i < chargers; i++) {
        const row = Math.floor(i / perRow);
        const col = i % perRow;
        const x = 2 * col;
        const y = -8 - 2 * row;
        const aisle = add({ level: "L1", x: x + 1, y, name: "" });
        const c = add({ level: "L1", x, y: y - 0.5, name: `charger_${i}`, charger: true });
        edges.push({ a: aisle, b: c });
        chargerIdx.push(c);
        if (col > 0 && prevAisle !== undefined) edges.push({ a: prevAisle, b: aisle });
        prevAisle = aisle;
        // Every row's first aisle spot joins the corridor at x = 0 through a bay entrance.
        if (col === 0) {
          const entrance = row === 0 ? spine[0] : named.get(`L1:bay_${row - 1}`)!;
          const bay = add({ level: "L1", x: -1, y, name: `bay_${row}` });
          edges.push({ a: entrance, b: bay }, { a: bay, b: aisle });
        }
      }
    }
  }
  edges.push({ a: liftVertex.L1, b: liftVertex.L2, lift: LIFT.name });

  const door = (name: string, x: number, y: number, horizontal: boolean): Door => ({
    name,
    v1_x: x - (horizontal ? 0.6 : 0),
    v1_y: y - (horizontal ? 0 : 0.6),
    v2_x: x + (horizontal ? 0.6 : 0),
    v2_y: y + (horizontal ? 0 : 0.6),
    door_type: 2,
    motion_range: 1.571,
    motion_direction: 1,
  });
  const doorGeometry: Record<string, Door> = { main_door: door("main_door", 37.5, 0, false), lab_door: door("lab_door", 10, 2, true) };

  const levels: Level[] = LEVELS.map((level) => {
    const own = vertices.filter((v) => v.level === level.name);
    const index = new Map(own.map((v, i) => [v.idx, i]));
    const depth = level.name === "L1" ? 10 + 2 * bayRows : 6;
    return {
      name: level.name,
      elevation: level.elevation,
      images: [],
      places: own.filter((v) => places.get(v.name) === v.idx || v.charger).map((v) => ({ name: v.name, x: v.x, y: v.y, yaw: 0, position_tolerance: 0, yaw_tolerance: 0 })),
      doors: [doorGeometry[level.door.name]],
      nav_graphs: [
        {
          name: "0",
          vertices: own.map((v) => ({ x: v.x, y: v.y, name: v.name, params: [...(v.charger ? [param("is_charger", true)] : []), ...(places.get(v.name) === v.idx ? [param("is_holding_point", true)] : [])] })),
          edges: edges
            .filter((e) => index.has(e.a) && index.has(e.b))
            .map((e) => ({ v1_idx: index.get(e.a)!, v2_idx: index.get(e.b)!, params: e.door ? [param("door_name", e.door)] : [], edge_type: 0 })),
          params: [],
        },
      ],
      wall_graph: walls(48, depth),
    };
  });
  const lift: Lift = {
    name: LIFT.name,
    levels: LEVELS.map((l) => l.name),
    doors: [door("lift1_door", LIFT.x - 1.25, LIFT.y, false)],
    wall_graph: emptyGraph(),
    ref_x: LIFT.x,
    ref_y: LIFT.y,
    ref_yaw: 0,
    width: 2.5,
    depth: 2.5,
  };
  return {
    map: { name: "switchyard_building", levels, lifts: [lift] },
    vertices,
    edges,
    places,
    chargers: chargerIdx,
    doors,
    lift: { name: LIFT.name, levels: lift.levels, vertexByLevel: liftVertex },
    workcells: [
      { guid: "coke_dispenser", kind: "dispenser", place: "supplies" },
      { guid: "coke_ingestor", kind: "ingestor", place: "storage" },
    ],
  };
};

/** Shortest path (vertex indices, start included) by Dijkstra; a lift hop costs 20 m. */
export const shortestPath = (b: Building, from: number, to: number): number[] | null => {
  if (from === to) return [from];
  const adj = new Map<number, { to: number; cost: number }[]>();
  for (const e of b.edges) {
    const va = b.vertices[e.a];
    const vb = b.vertices[e.b];
    const cost = e.lift ? 20 : Math.hypot(va.x - vb.x, va.y - vb.y);
    (adj.get(e.a) ?? adj.set(e.a, []).get(e.a)!).push({ to: e.b, cost });
    (adj.get(e.b) ?? adj.set(e.b, []).get(e.b)!).push({ to: e.a, cost });
  }
  const dist = new Map<number, number>([[from, 0]]);
  const prev = new Map<number, number>();
  const open = new Set([from]);
  while (open.size) {
    let u = -1;
    let best = Infinity;
    for (const v of open) {
      const d = dist.get(v) ?? Infinity;
      if (d < best) {
        best = d;
        u = v;
      }
    }
    open.delete(u);
    if (u === to) break;
    for (const { to: v, cost } of adj.get(u) ?? []) {
      const d = best + cost;
      if (d < (dist.get(v) ?? Infinity)) {
        dist.set(v, d);
        prev.set(v, u);
        open.add(v);
      }
    }
  }
  if (!prev.has(to)) return null;
  const path = [to];
  while (path[0] !== from) path.unshift(prev.get(path[0])!);
  return path;
};

export const edgeBetween = (b: Building, a: number, c: number) => b.edges.find((e) => (e.a === a && e.b === c) || (e.a === c && e.b === a));
