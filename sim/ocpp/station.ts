import { createBoot } from "./boot";
import { createCommands, type StationContext } from "./commands";
import { createCore, type Core } from "./core";
import { createTicker } from "./demo";
import { createHandlers16 } from "./handlers16";
import { createHandlers201 } from "./handlers201";
import { createMeter } from "./meter";
import { createSession, type RebootKind } from "./session";
import { createSettings } from "./settings";
import type { Params, StationSim, StationSimOptions } from "./types";
import { createWire, type Wire } from "./wire";

export type { Behaviour, ConnectorState, StationSim, StationSimOptions, StationState } from "./types";
export { stationEndpoint } from "./wire";

/** Builds a station's parts on top of its wire (the handler tests give it a fake one). */
export const createStationContext = (core: Core, wire: Wire): StationContext => {
  const linked = { ...core, ...wire, ...createSettings(core) };
  const metered = { ...linked, ...createMeter(linked) };
  const reboot = (kind: RebootKind) => boot.reboot(kind);
  const flows = { ...metered, ...createSession(metered, reboot) };
  const boot = createBoot(flows);
  const booted = { ...flows, ...boot };
  return { ...booted, ...createCommands(booted) };
};

/**
 * A simulated OCPP 1.6J or 2.0.1 charge station over a real websocket (ocpp-rpc, strict
 * mode, so every message it sends or accepts is schema-checked). One station has
 * `connectors` connectors; in 2.0.1 each is its own EVSE with connector 1.
 *
 * Time: protocol timers (heartbeat, reconnect, reboot) run in wall-clock time; charging
 * physics and demo behaviour run in simulated time = wall time × `speed`, and the
 * meter-value interval is divided by `speed`, so a fast demo shows whole sessions quickly.
 *
 * This file wires the parts: core.ts (state, status, physics), wire.ts (socket, CALLs, the
 * transaction queue), settings.ts, meter.ts, session.ts (connector flows), boot.ts
 * (connect, boot, reboot), commands.ts + handlers16.ts / handlers201.ts (CSMS → station)
 * and demo.ts (timers and demo behaviour).
 */
export const startStationSim = async (opts: StationSimOptions): Promise<StationSim> => {
  const core = createCore(opts);
  const ctx = createStationContext(core, createWire(core));
  const { id, protocol, v16, kind, connectors, station, link, stats, log, now, advance, client, txQueue } = ctx;
  const { exclusive, plugIn, unplug, stopTransaction, fault, clearFault } = ctx;

  for (const [action, fn] of Object.entries(v16 ? createHandlers16(ctx) : createHandlers201(ctx))) {
    client.handle(action, async ({ params }) => {
      log.debug({ action }, "command received");
      return fn((params ?? {}) as Params);
    });
  }

  const removeTick = ctx.scheduler.add(createTicker(ctx));

  void ctx.connectLoop();

  const byId = (connectorId: number) => {
    const c = connectors[connectorId - 1];
    if (!c) throw new Error(`station ${id} has no connector ${connectorId}`);
    return c;
  };

  return {
    id,
    protocol,
    state: () => {
      const t = now();
      return {
        id,
        protocol,
        kind,
        connected: link.connected,
        bootStatus: link.bootStatus,
        heartbeatIntervalS: link.heartbeatIntervalS,
        operative: station.operative,
        connectors: connectors.map((c) => {
          advance(c, t);
          return {
            id: c.id,
            status: c.lastStatus,
            plugged: c.plugged,
            operative: c.operative,
            faulted: !!c.faulted,
            powerW: c.flow.powerW,
            energyWh: c.flow.energyWh,
            ...(c.ev ? { socPct: c.ev.socPct } : {}),
            ...(c.tx
              ? {
                  transaction: {
                    id: v16 ? String(c.tx.remoteId ?? "") : c.tx.localId,
                    idTag: c.tx.idTag,
                    startedAt: c.tx.startedAt,
                    meterStartWh: c.tx.meterStartWh,
                    energyWh: c.flow.energyWh - c.tx.meterStartWh,
                    active: c.tx.active,
                  },
                }
              : {}),
          };
        }),
        stats: { ...stats, queuedTxMessages: txQueue.size(), txMessagesSentLater: txQueue.sentLater() },
      };
    },
    waitForBoot: () => (link.bootStatus === "Accepted" ? Promise.resolve() : new Promise<void>((resolve) => link.bootWaiters.push(resolve))),
    plugIn: (connectorId, o) => {
      const c = byId(connectorId);
      return exclusive(c, () => plugIn(c, o));
    },
    unplug: (connectorId) => {
      const c = byId(connectorId);
      return exclusive(c, () => unplug(c));
    },
    stopTransaction: (connectorId) => {
      const c = byId(connectorId);
      return exclusive(c, () => stopTransaction(c, "local"));
    },
    fault: (connectorId, o) => {
      const c = byId(connectorId);
      return exclusive(c, () => fault(c, o));
    },
    clearFault: (connectorId) => clearFault(byId(connectorId)),
    close: async () => {
      if (link.closed) return;
      link.closed = true;
      removeTick();
      ctx.ownScheduler?.stop();
      ctx.wakeSleepers();
      const done = await Promise.race([
        client.close({ code: 1000, reason: "simulator stopped" }).then(() => true),
        new Promise<boolean>((r) => setTimeout(() => r(false), 1000).unref()),
      ]).catch(() => false);
      if (!done) await client.close({ force: true }).catch(() => {});
    },
  };
};
