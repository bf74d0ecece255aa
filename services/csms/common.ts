import { CSMS_ACTIONS, STATION_ACTIONS } from "../../contracts/csms/mqtt";

/** Small pieces the gateway and the manager share. */

/** Logs at most once per `intervalMs` per key, so a flooding station cannot flood the log. */
export const createLogThrottle = (intervalMs: number) => {
  const last = new Map<string, number>();
  return (key: string) => {
    const now = Date.now();
    const prev = last.get(key);
    if (prev !== undefined && now - prev < intervalMs) return false;
    last.set(key, now);
    if (last.size > 10_000) for (const [k, t] of last) if (now - t >= intervalMs) last.delete(k);
    return true;
  };
};

/** A bounded metric label: OCPP actions known for either version, everything else folded into "other". */
export const knownActions = new Set([...Object.values(STATION_ACTIONS).flat(), ...Object.values(CSMS_ACTIONS).flat()]);
export const actionLabel = (action: unknown) => (typeof action === "string" && knownActions.has(action) ? action : "other");

/** Where a csms process (gateway or manager) listens and how it reaches the broker. */
export type CsmsProcessOptions = {
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  mqttUrl: string;
  mqttUsername?: string;
  mqttPassword?: string;
  topicPrefix?: string;
};
