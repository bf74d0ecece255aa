import { randomBytes } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type pino from "pino";
import { logger } from "../../lib/log";
import { base64Sha256 } from "../../services/csms/gateway/auth";
import type { OcppVersion } from "../../contracts/csms/mqtt";
import { deriveSeed } from "./rng";
import { createScheduler } from "./scheduler";
import { startStationSim, type Behaviour, type StationSim, type StationSimOptions } from "./station";

export type FleetOptions = {
  /** The gateway's base websocket URL, e.g. ws://127.0.0.1:9310. */
  url: string;
  stations: number;
  /** Share of OCPP 1.6 stations; the rest speak 2.0.1. Spread evenly over the ids. */
  ratio16?: number;
  /** Each station's password; default: random per station and fleet start (registered with the manager). */
  passwordFor?: (id: string) => string;
  idPrefix?: string;
  behaviour?: Behaviour;
  /** When set, every station is registered there first (MaEVe's POST /api/v0/cs/{id}). */
  managerUrl?: string;
  /** Sent as `authorization: Bearer …` with registrations, for a manager that does not allow open registration. */
  managerToken?: string;
  /** Stations opened per second, so a big fleet does not hit the gateway with one burst. */
  connectRatePerSec?: number;
  seed?: number;
  log?: pino.Logger;
} & Pick<StationSimOptions, "speed" | "connectors" | "meterIntervalMs" | "rebootDelayMs" | "callTimeoutMs">;

export type Fleet = {
  stations: StationSim[];
  /** Resolves once every station has been accepted by a BootNotification. */
  ready: Promise<void>;
  summary: () => { stations: number; connected: number; booted: number; charging: number; faulted: number };
  close: () => Promise<void>;
};

/**
 * A fresh random password. Never derived from the station id: anyone who knows an id could
 * then connect as that station. The fleet registers what it generated before connecting.
 */
export const randomPassword = () => randomBytes(18).toString("base64url");

/** Random passwords per station id, generated on first use and kept for the fleet's life. */
export const randomPasswords = () => {
  const passwords = new Map<string, string>();
  return (id: string) => {
    let password = passwords.get(id);
    if (!password) passwords.set(id, (password = randomPassword()));
    return password;
  };
};

/**
 * Random passwords per station id kept in a JSON file (mode 0600, e.g. under `.data`), so a
 * restarted demo keeps its stations' passwords and an operator can look one up to point
 * another simulator at the demo. New ids get a fresh random password, written at once.
 */
export const persistentPasswords = (file: string) => {
  let passwords: Record<string, string> = {};
  try {
    const parsed: unknown = JSON.parse(fs.readFileSync(file, "utf8"));
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      passwords = Object.fromEntries(Object.entries(parsed).filter((e): e is [string, string] => typeof e[1] === "string" && e[1].length >= 16));
    }
  } catch {
    // missing or unreadable: start afresh
  }
  let writeScheduled = false;
  const write = () => {
    writeScheduled = false;
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(`${file}.tmp`, JSON.stringify(passwords, null, 1), { mode: 0o600 });
    fs.renameSync(`${file}.tmp`, file);
  };
  return (id: string) => {
    let password = passwords[id];
    if (!password) {
      passwords[id] = password = randomPassword();
      // Many ids are asked for in one go (a fleet registers all first): one write for them all.
      if (!writeScheduled) {
        writeScheduled = true;
        queueMicrotask(write);
      }
    }
    return password;
  };
};

export const stationId = (prefix: string, i: number) => `${prefix}${String(i + 1).padStart(5, "0")}`;

/** Evenly interleaves versions: with ratio 0.5 every second station speaks 1.6. */
export const protocolFor = (i: number, ratio16: number): OcppVersion =>
  Math.floor((i + 1) * ratio16) > Math.floor(i * ratio16) ? "ocpp1.6" : "ocpp2.0.1";

/**
 * Registers stations with the manager. Tolerant by design: the manager may not be running
 * (tests, a gateway started with CSMS_ALLOW_ANY_STATION=1), which must not stop the fleet.
 */
export const registerStations = async ({
  managerUrl,
  managerToken,
  ids,
  passwordFor,
  log,
  concurrency = 16,
}: {
  managerUrl: string;
  managerToken?: string;
  ids: string[];
  passwordFor: (id: string) => string;
  log: pino.Logger;
  concurrency?: number;
}) => {
  const base = managerUrl.replace(/\/+$/, "");
  let registered = 0;
  let failed = 0;
  let unreachable = false;
  let next = 0;
  const worker = async () => {
    while (!unreachable && next < ids.length) {
      const id = ids[next++];
      try {
        const res = await fetch(`${base}/api/v0/cs/${encodeURIComponent(id)}`, {
          method: "POST",
          headers: { "content-type": "application/json", ...(managerToken ? { authorization: `Bearer ${managerToken}` } : {}) },
          body: JSON.stringify({ securityProfile: 0, base64SHA256Password: base64Sha256(passwordFor(id)), invalidUsernameAllowed: false }),
          signal: AbortSignal.timeout(5000),
        });
        await res.body?.cancel();
        if (res.ok) registered += 1;
        else {
          failed += 1;
          if (failed <= 3) log.warn({ id, status: res.status }, "station registration refused");
        }
      } catch (error) {
        // One unreachable manager is enough to know; do not try thousands more.
        if (unreachable) return;
        unreachable = true;
        log.warn({ managerUrl, err: (error as Error).message }, "manager unreachable; stations not registered");
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, ids.length) }, worker));
  log.info({ registered, failed, unreachable }, "station registration done");
  return { registered, failed, unreachable };
};

export const startFleet = async (opts: FleetOptions): Promise<Fleet> => {
  const log = opts.log ?? logger();
  const prefix = opts.idPrefix ?? "SIM";
  const ratio16 = opts.ratio16 ?? 0.5;
  const passwordFor = opts.passwordFor ?? randomPasswords();
  const seed = opts.seed ?? Math.floor(Math.random() * 2 ** 32);
  const rate = opts.connectRatePerSec ?? 200;
  const ids = Array.from({ length: opts.stations }, (_, i) => stationId(prefix, i));

  if (opts.managerUrl) await registerStations({ managerUrl: opts.managerUrl, managerToken: opts.managerToken, ids, passwordFor, log });

  const scheduler = createScheduler({ tickMs: 100, onError: (error) => log.warn({ err: (error as Error).message }, "station tick failed") });
  const stations: StationSim[] = [];
  let closed = false;
  for (const [i, id] of ids.entries()) {
    if (closed) break;
    stations.push(
      await startStationSim({
        id,
        url: opts.url,
        password: passwordFor(id),
        protocol: protocolFor(i, ratio16),
        seed: deriveSeed(seed, i),
        behaviour: opts.behaviour ?? "demo",
        speed: opts.speed,
        connectors: opts.connectors,
        meterIntervalMs: opts.meterIntervalMs,
        rebootDelayMs: opts.rebootDelayMs,
        callTimeoutMs: opts.callTimeoutMs,
        scheduler,
        log,
      }),
    );
    if (i < ids.length - 1) await new Promise((r) => setTimeout(r, 1000 / rate));
  }
  log.info({ stations: stations.length, url: opts.url, ratio16, seed }, "fleet started");

  return {
    stations,
    ready: Promise.all(stations.map((s) => s.waitForBoot())).then(() => undefined),
    summary: () => {
      const states = stations.map((s) => s.state());
      return {
        stations: states.length,
        connected: states.filter((s) => s.connected).length,
        booted: states.filter((s) => s.connected && s.bootStatus === "Accepted").length,
        charging: states.reduce((n, s) => n + s.connectors.filter((c) => c.transaction?.active).length, 0),
        faulted: states.reduce((n, s) => n + s.connectors.filter((c) => c.faulted).length, 0),
      };
    },
    close: async () => {
      closed = true;
      scheduler.stop();
      await Promise.allSettled(stations.map((s) => s.close()));
    },
  };
};
