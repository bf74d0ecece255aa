import type { Req, TxState } from "./context";
import type { CallStation } from "./dispatch";
import { parseMeterValues, parseTime } from "./ocpp";
import { txView } from "./station-cache";
import type { CallDeps, CallHandlers } from "./transactions";

/** OCPP 2.0.1 TransactionEvent, and GetTransactionStatus after a boot. */
export const createTx201Calls = ({ ctx, store, broadcast, tokens, basics }: CallDeps, { callStation }: { callStation: CallStation }) => {
  const { writes } = store;
  const { ensureRow, checkConnector, findTx, applySamples, closeSuperseded, closeTx } = basics;

  const handlers: CallHandlers = {
    TransactionEvent: async (version, st, r, now) => {
      await ensureRow(st, version);
      const info = (r.transactionInfo ?? {}) as Req;
      const wireId = String(info.transactionId);
      const evse = r.evse as { id?: number; connectorId?: number } | undefined;
      if (evse?.id !== undefined) checkConnector(st, "evse.id", evse.id);
      if (evse?.connectorId !== undefined) checkConnector(st, "evse.connectorId", evse.connectorId);
      const eventType = String(r.eventType);
      const list = parseMeterValues(r.meterValue);
      const idToken = r.idToken as { idToken?: unknown; type?: unknown } | undefined;
      let tx = await findTx(st, wireId, { starting: eventType === "Started" });
      let changed = false;
      if (!tx) {
        const firstEnergy = list.find((s) => s.energyWh !== null)?.energyWh ?? null;
        // The station's own id, scoped to the station: no station can take another's.
        const created: TxState = {
          id: `${st.id}:${wireId}`,
          seq: null,
          stationId: st.id,
          transactionId: wireId,
          evseId: evse?.id ?? 0,
          connectorId: evse?.connectorId ?? 1,
          idTag: typeof idToken?.idToken === "string" ? idToken.idToken : null,
          startedAt: parseTime(r.timestamp, now),
          stoppedAt: null,
          meterStartWh: firstEnergy,
          meterStopWh: null,
          energyWh: 0,
          powerW: null,
          socPct: null,
          stopReason: null,
          active: true,
        };
        tx = created;
        await writes.room();
        store.txWrite(tx);
        st.txs.set(tx.id, tx);
        if (tx.active) await closeSuperseded(st, tx, "NewTransactionOnConnector");
        changed = true;
      } else if (evse?.id !== undefined && tx.evseId !== evse.id) {
        tx.evseId = evse.id;
        tx.connectorId = evse.connectorId ?? tx.connectorId;
        store.txWrite(tx);
      }
      if (!tx.idTag && typeof idToken?.idToken === "string") {
        tx.idTag = idToken.idToken;
        store.txWrite(tx);
        changed = true;
      }
      applySamples(st, tx.evseId, tx.connectorId, tx, list);
      if (eventType === "Ended" && tx.active) {
        const lastEnergy = [...list].reverse().find((s) => s.energyWh !== null)?.energyWh ?? null;
        store.dirtyTx.delete(tx.id);
        Object.assign(tx, {
          active: false,
          stoppedAt: parseTime(r.timestamp, now),
          meterStopWh: lastEnergy,
          stopReason: typeof info.stoppedReason === "string" ? info.stoppedReason : "Local",
          powerW: null,
        });
        if (lastEnergy !== null && tx.meterStartWh !== null) tx.energyWh = Math.max(0, lastEnergy - tx.meterStartWh);
        store.txWrite(tx);
        changed = true;
      }
      if (changed) {
        broadcast.emit("transaction", txView(tx));
        broadcast.emitStation(st);
      }
      if (idToken && typeof idToken.idToken === "string") {
        return { idTokenInfo: { status: idToken.type === "NoAuthorization" ? "Accepted" : await tokens.authorize(idToken.idToken) } };
      }
      return {};
    },
  };

  /**
   * After a 2.0.1 station boots, each transaction the CSMS still has open is checked with
   * GetTransactionStatus: one the station no longer knows (not ongoing, nothing queued for
   * it) is closed with the reason `EndedWhileOffline`; one with queued messages is left for
   * them to end. 1.6 has no such call: its boot closes them (`Reboot`).
   */
  const checkOpenTransactions = async (stationId: string) => {
    const st = ctx.state.cache.get(stationId);
    if (!st || st.protocol !== "ocpp2.0.1") return;
    for (const t of [...st.txs.values()].filter((x) => x.active)) {
      const env = await callStation("ocpp2.0.1", stationId, "GetTransactionStatus", { transactionId: t.transactionId }, ctx.commandTimeoutMs);
      if (env?.type !== 3) continue;
      const r = env.response as { ongoingIndicator?: unknown; messagesInQueue?: unknown };
      if (r.ongoingIndicator === false && r.messagesInQueue === false && t.active) {
        await ctx.serial(stationId, async () => {
          if (!t.active) return;
          await closeTx(t, "EndedWhileOffline", new Date());
          broadcast.emitStation(st);
        });
      }
    }
  };

  return { handlers, checkOpenTransactions };
};
