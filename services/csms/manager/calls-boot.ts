import type { StationState } from "./context";
import { connectorKey } from "./context";
import { bootInfo } from "./ocpp";
import type { CallDeps, CallHandlers } from "./transactions";

/** BootNotification, Heartbeat, StatusNotification. */
export const createBootCalls = ({ ctx, store, view, broadcast, basics }: CallDeps): CallHandlers => {
  const { writes } = store;
  const { ensureRow, checkConnector, closeTx } = basics;

  const setConnector = async (st: StationState, evseId: number, connectorId: number, status: string, errorCode: string | null) => {
    const updatedAt = new Date();
    await writes.room();
    writes.connector({ stationId: st.id, evseId, connectorId, status, errorCode, updatedAt });
    const key = connectorKey(evseId, connectorId);
    const prev = st.connectors.get(key);
    st.connectors.set(key, { evseId, connectorId, status, errorCode, updatedAt });
    return !prev || prev.status !== status || prev.errorCode !== errorCode;
  };

  return {
    BootNotification: async (version, st, r, now) => {
      const info = bootInfo(version, r);
      const heartbeatIntervalSec = (st.exists ? await view.configuredHeartbeat(st.id) : undefined) ?? ctx.heartbeatIntervalSec;
      writes.station({ id: st.id, protocol: version, boot: { ...info, bootedAt: now, heartbeatIntervalSec }, heartbeatIntervalSec, lastSeenAt: now });
      if (!st.exists) st.registeredAt = now;
      Object.assign(st, info, { exists: true, protocol: version, bootedAt: now, heartbeatIntervalSec });
      // A 1.6 station that boots has ended whatever it was charging; a StopTransaction it
      // still had queued arrives later and corrects the figures. 2.0.1 reports on its own
      // (TransactionEvent Ended, or GetTransactionStatus, see calls-tx201.ts).
      if (version === "ocpp1.6") for (const t of st.txs.values()) if (t.active) await closeTx(t, "Reboot", now);
      broadcast.emitStation(st);
      return { status: "Accepted", currentTime: now.toISOString(), interval: heartbeatIntervalSec };
    },
    Heartbeat: async (_version, _st, _r, now) => ({ currentTime: now.toISOString() }),
    StatusNotification: async (version, st, r) => {
      await ensureRow(st, version);
      let changed: boolean;
      if (version === "ocpp1.6") {
        const connectorId = checkConnector(st, "connectorId", r.connectorId);
        // Connector 0 is the station as a whole; OCPP 1.6 connector N is stored as EVSE N.
        if (connectorId <= 0) return {};
        const errorCode = typeof r.errorCode === "string" && r.errorCode !== "NoError" ? r.errorCode : null;
        changed = await setConnector(st, connectorId, connectorId, String(r.status), errorCode);
      } else {
        changed = await setConnector(st, checkConnector(st, "evseId", r.evseId), checkConnector(st, "connectorId", r.connectorId), String(r.connectorStatus), null);
      }
      if (changed) broadcast.emitStation(st);
      return {};
    },
  };
};
