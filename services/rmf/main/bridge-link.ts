import { randomUUID } from "node:crypto";
import type pino from "pino";
import { Counter, type Registry } from "prom-client";
import type { WebSocket } from "ws";
import { bridgeFrameSchema, bridgeInTopics, type BridgeInTopic, type BridgeOutTopic, type BridgeServiceResponse, type RoomKind } from "../../../contracts/rmf";
import type { RmfState } from "./state";

/**
 * Main's end of the RMF bridge (contracts/rmf/bridge.ts, the stand-in for ROS 2): building
 * state published by RMF lands in main's state; task API calls and door/lift requests go
 * out. A call waits `timeoutMs` for RMF's answer (rmf-web: 5 s, then 500). Each bridge
 * says which fleets it runs, and main remembers which bridge published which door, lift
 * and workcell, so a command reaches the RMF that owns its target.
 */
export class BridgeTimeoutError extends Error {}
export class BridgeUnavailableError extends Error {}

type Conn = { ws: WebSocket; fleets: Set<string>; pending: Map<string, (r: BridgeServiceResponse) => void> };

const STICKY_TOPICS: Partial<Record<BridgeInTopic, { kind: RoomKind; nameOf?: (msg: Record<string, unknown>) => string }>> = {
  door_states: { kind: "door_state", nameOf: (m) => m.door_name as string },
  lift_states: { kind: "lift_state", nameOf: (m) => m.lift_name as string },
  dispenser_states: { kind: "dispenser_state", nameOf: (m) => m.guid as string },
  ingestor_states: { kind: "ingestor_state", nameOf: (m) => m.guid as string },
  map: { kind: "building_map" },
  fire_alarm_trigger: { kind: "fire_alarm_trigger" },
};

export const createBridgeLink = ({ state, registry, log, timeoutMs }: { state: RmfState; registry: Registry; log: pino.Logger; timeoutMs: number }) => {
  const frames = new Counter({ name: "rmf_bridge_frames_total", help: "Bridge frames by direction, op/topic and outcome", labelNames: ["direction", "what", "outcome"] as const, registers: [registry] });
  const conns = new Set<Conn>();
  const owners = new Map<string, Conn>();

  const send = (conn: Conn, frame: unknown) => {
    if (conn.ws.readyState !== conn.ws.OPEN) return false;
    conn.ws.send(JSON.stringify(frame));
    return true;
  };

  const onPublish = (conn: Conn, topic: string, msg: unknown) => {
    if (!Object.hasOwn(bridgeInTopics, topic)) {
      frames.inc({ direction: "in", what: "unknown", outcome: "invalid" });
      return send(conn, { op: "status", level: "error", msg: `unknown topic '${topic.slice(0, 64)}'` });
    }
    const parsed = bridgeInTopics[topic as BridgeInTopic].safeParse(msg);
    if (!parsed.success) {
      frames.inc({ direction: "in", what: topic, outcome: "invalid" });
      return send(conn, { op: "status", level: "error", msg: `invalid ${topic}: ${parsed.error.issues.slice(0, 3).map((i) => `${i.path.join(".")}: ${i.message}`).join("; ")}` });
    }
    frames.inc({ direction: "in", what: topic, outcome: "ok" });
    const data = parsed.data as Record<string, unknown>;
    const sticky = STICKY_TOPICS[topic as BridgeInTopic];
    if (sticky) {
      const name = sticky.nameOf?.(data);
      if (name !== undefined && (name.length === 0 || name.includes("/"))) return send(conn, { op: "status", level: "error", msg: `invalid ${topic}: name must be 1–256 characters without '/'` });
      if (name !== undefined) owners.set(`${sticky.kind}:${name}`, conn);
      return state.setSticky(sticky.kind, name, data);
    }
    switch (topic as BridgeInTopic) {
      case "alerts":
        return state.alertRequest(parsed.data as Parameters<RmfState["alertRequest"]>[0]);
      case "alert_responses":
        return state.alertResponse(parsed.data as Parameters<RmfState["alertResponse"]>[0]);
      case "beacon_state":
        return state.event("beacons", data);
      case "delivery_alert_request":
        return state.event("delivery_alerts", data);
      case "rio":
        return state.event("rios", data);
      case "fleets":
        conn.fleets = new Set((data as { fleets: string[] }).fleets);
        return;
    }
  };

  const accept = (ws: WebSocket, peer: string) => {
    const conn: Conn = { ws, fleets: new Set(), pending: new Map() };
    conns.add(conn);
    log.info({ peer }, "rmf bridge connected");
    ws.on("message", (data, isBinary) => {
      let raw: unknown;
      try {
        raw = isBinary ? undefined : JSON.parse(data.toString());
      } catch {
        raw = undefined;
      }
      const frame = bridgeFrameSchema.safeParse(raw);
      if (!frame.success) {
        frames.inc({ direction: "in", what: "unknown", outcome: "invalid" });
        return void send(conn, { op: "status", level: "error", msg: "expected a bridge frame {op: publish | service_response | status, …}" });
      }
      const f = frame.data;
      if (f.op === "publish") return void onPublish(conn, f.topic, f.msg);
      if (f.op === "service_response") {
        const resolve = conn.pending.get(f.id);
        frames.inc({ direction: "in", what: "service_response", outcome: resolve ? "ok" : "late" });
        if (resolve) resolve(f);
        return;
      }
      if (f.op === "status") return void log.info({ peer, level: f.level, msg: f.msg }, "rmf bridge status");
      frames.inc({ direction: "in", what: f.op, outcome: "invalid" });
    });
    ws.on("close", () => {
      conns.delete(conn);
      for (const [key, owner] of owners) if (owner === conn) owners.delete(key);
      log.info({ peer }, "rmf bridge disconnected");
    });
    ws.on("error", () => {});
  };

  const callOne = (conn: Conn, jsonMsg: Record<string, unknown>, deadline: number) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const id = randomUUID();
      const timer = setTimeout(() => {
        conn.pending.delete(id);
        reject(new BridgeTimeoutError("rmf service timed out"));
      }, Math.max(0, deadline - Date.now()));
      conn.pending.set(id, (r) => {
        clearTimeout(timer);
        conn.pending.delete(id);
        resolve(r.values.json_msg);
      });
      if (!send(conn, { op: "call_service", id, service: "task_api", args: { json_msg: jsonMsg } })) {
        clearTimeout(timer);
        conn.pending.delete(id);
        reject(new BridgeUnavailableError("rmf bridge not connected"));
      }
      frames.inc({ direction: "out", what: "call_service", outcome: "ok" });
    });

  const isRefusal = (answer: Record<string, unknown>) => answer.success === false;

  return {
    accept,
    connections: () => conns.size,
    /**
     * A task API call. With a fleet, it goes to the bridge running that fleet; without one,
     * bridges are asked in turn until one accepts (so two RMFs never both take a task).
     */
    callTaskApi: async (jsonMsg: Record<string, unknown>, { fleet }: { fleet?: string } = {}) => {
      const deadline = Date.now() + timeoutMs;
      const owner = fleet ? [...conns].find((c) => c.fleets.has(fleet)) : undefined;
      const candidates = owner ? [owner] : [...conns];
      if (!candidates.length) throw new BridgeUnavailableError("rmf bridge not connected");
      let last: Record<string, unknown> | undefined;
      for (const conn of candidates) {
        last = await callOne(conn, jsonMsg, deadline);
        if (!isRefusal(last)) return last;
      }
      return last!;
    },
    /** Publishes to the bridge owning `owner` (kind:name), else to every bridge. */
    publish: (topic: BridgeOutTopic, msg: unknown, owner?: string) => {
      const target = owner ? owners.get(owner) : undefined;
      const list = target ? [target] : [...conns];
      for (const conn of list) send(conn, { op: "publish", topic, msg });
      frames.inc({ direction: "out", what: topic, outcome: list.length ? "ok" : "no_bridge" });
      return list.length > 0;
    },
    close: () => {
      for (const conn of conns) conn.ws.terminate();
    },
  };
};
export type BridgeLink = ReturnType<typeof createBridgeLink>;
