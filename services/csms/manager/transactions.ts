import type { OcppVersion } from "../../../contracts/csms/mqtt";
import type { Broadcast } from "./broadcast";
import type { Tokens } from "./calls-auth";
import { connectorKey, type ManagerContext, type Req, type StationState, type TxState } from "./context";
import { CallRefused } from "./input";
import type { Sample } from "./ocpp";
import { txFromRow, txView, type StationCache } from "./station-cache";
import type { Store } from "./store";

/** What the call handlers (calls-*.ts) are built from. */
export type CallDeps = { ctx: ManagerContext; store: Store; view: StationCache; broadcast: Broadcast; tokens: Tokens; basics: CallBasics };
/** One CALL family: action → handler (`now` is when the CALL is handled). */
export type CallHandlers = Record<string, (version: OcppVersion, st: StationState, r: Req, now: Date) => Promise<Req>>;

/** Helpers every CALL family uses: the station's row, connector ids, transactions and their samples. */
export const createCallBasics = (ctx: ManagerContext, { store, broadcast }: { store: Store; broadcast: Broadcast }) => {
  const { db, state } = ctx;
  const { writes, dirtyTx } = store;

  const ensureRow = async (st: StationState, version: OcppVersion) => {
    if (st.exists && st.protocol === version) return;
    await writes.room();
    writes.station({ id: st.id, protocol: version, heartbeatIntervalSec: ctx.heartbeatIntervalSec, lastSeenAt: st.lastSeenAt ?? new Date() });
    if (!st.exists) st.registeredAt = new Date();
    st.exists = true;
    st.protocol = version;
  };

  /** Refuses a connector / EVSE id the station cannot have (beyond what it declared, or absurd). */
  const checkConnector = (st: StationState, field: string, id: unknown) => {
    const max = st.declaredConnectors ?? ctx.maxConnectorId;
    if (typeof id === "number" && Number.isInteger(id) && id >= 0 && id <= max) return id;
    throw new CallRefused("PropertyConstraintViolation", `${field}: ${String(id)} is beyond this station's connectors (at most ${max})`, "connector");
  };

  const findTx = async (st: StationState, wireId: string, { starting = false } = {}) => {
    for (const t of st.txs.values()) if (t.transactionId === wireId) return t;
    // The cache holds every open and today's transaction: a new one being started is not in the database.
    if (starting && state.warmed && !state.otherManagers) return undefined;
    const row = await db.csmsTransaction.findUnique({ where: { stationId_transactionId: { stationId: st.id, transactionId: wireId } } });
    if (!row) return undefined;
    const t = txFromRow(row);
    st.txs.set(t.id, t);
    return t;
  };
  const activeTxOn = (st: StationState, evseId: number) => [...st.txs.values()].find((t) => t.active && t.evseId === evseId);

  /** Applies meter samples: batched rows, the transaction's running values, a coalesced meter event. */
  const applySamples = (st: StationState, evseId: number, connectorId: number, tx: TxState | undefined, list: Sample[]) => {
    if (!list.length) return;
    for (const s of list) {
      store.samples.push({ stationId: st.id, transactionId: tx?.id ?? null, evseId, connectorId, at: s.at, powerW: s.powerW, energyWh: s.energyWh, socPct: s.socPct });
      if (tx?.active) {
        if (s.energyWh !== null) {
          if (tx.meterStartWh === null) tx.meterStartWh = s.energyWh;
          tx.energyWh = Math.max(0, s.energyWh - tx.meterStartWh);
        }
        if (s.powerW !== null) tx.powerW = s.powerW;
        if (s.socPct !== null) tx.socPct = s.socPct;
        dirtyTx.set(tx.id, tx);
      }
    }
    const last = list[list.length - 1];
    const lastPower = [...list].reverse().find((s) => s.powerW !== null)?.powerW;
    const connector = st.connectors.get(connectorKey(evseId, connectorId)) ?? (st.protocol === "ocpp1.6" ? st.connectors.get(connectorKey(evseId, evseId)) : undefined);
    if (connector && lastPower !== undefined) connector.powerW = lastPower;
    broadcast.emitMeter({
      stationId: st.id,
      evseId,
      connectorId,
      transactionId: tx?.id ?? null,
      at: last.at.toISOString(),
      powerW: last.powerW,
      energyWh: last.energyWh,
      socPct: last.socPct,
      sessionEnergyWh: tx && tx.meterStartWh !== null ? tx.energyWh : null,
    });
  };

  const closeTx = async (t: TxState, reason: string, at: Date) => {
    dirtyTx.delete(t.id);
    Object.assign(t, { active: false, stoppedAt: at, stopReason: reason, powerW: null });
    store.txWrite(t);
    broadcast.emit("transaction", txView(t));
  };
  /** Closes a still-open transaction that a new one on the same connector replaced (its stop never came). */
  const closeSuperseded = async (st: StationState, newTx: TxState, reason: string) => {
    for (const t of st.txs.values()) {
      if (t === newTx || !t.active || t.evseId !== newTx.evseId || (st.protocol !== "ocpp1.6" && t.connectorId !== newTx.connectorId)) continue;
      await closeTx(t, reason, new Date());
    }
  };

  return { ensureRow, checkConnector, findTx, activeTxOn, applySamples, closeTx, closeSuperseded };
};
export type CallBasics = ReturnType<typeof createCallBasics>;
