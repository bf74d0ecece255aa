import type { TxState } from "./context";
import { CallRefused } from "./input";
import { parseMeterValues, parseTime } from "./ocpp";
import { txView } from "./station-cache";
import type { CallDeps, CallHandlers } from "./transactions";

/** OCPP 1.6 StartTransaction / StopTransaction, and MeterValues (both versions). */
export const createTx16Calls = ({ ctx, store, broadcast, tokens, basics }: CallDeps): CallHandlers => {
  const { db, log, shouldLog } = ctx;
  const { writes } = store;
  const { ensureRow, checkConnector, findTx, activeTxOn, applySamples, closeSuperseded } = basics;
  const { authorize } = tokens;

  /** Transaction numbers come from the database sequence in blocks, so a StartTransaction rarely waits for it. */
  const seqBlock: number[] = [];
  let seqRefill: Promise<void> | undefined;
  const nextSeq = async (): Promise<number> => {
    while (!seqBlock.length) {
      seqRefill ??= db
        .$queryRawUnsafe<{ seq: number }[]>(`SELECT nextval(pg_get_serial_sequence('"csms"."transaction"', 'seq'))::int AS seq FROM generate_series(1, 50)`)
        .then((rows) => void seqBlock.push(...rows.map((r) => Number(r.seq)).sort((a, b) => a - b)))
        .finally(() => (seqRefill = undefined));
      await seqRefill;
    }
    return seqBlock.shift()!;
  };
  /**
   * A 1.6 transaction: the CSMS assigns the id from the sequence. An id already taken (a
   * 2.0.1 station may have used that number as its own) is skipped, never an error.
   */
  const createTx16 = async (data: Pick<TxState, "stationId" | "evseId" | "connectorId" | "idTag" | "startedAt" | "meterStartWh">): Promise<TxState> => {
    const seq = await nextSeq();
    const tx: TxState = { ...data, id: String(seq), seq, transactionId: String(seq), stoppedAt: null, meterStopWh: null, energyWh: 0, powerW: null, socPct: null, stopReason: null, active: true };
    await writes.room();
    store.txWrite(tx);
    return tx;
  };

  return {
    StartTransaction: async (version, st, r, now) => {
      const connectorId = checkConnector(st, "connectorId", r.connectorId);
      if (connectorId === 0) throw new CallRefused("PropertyConstraintViolation", "connectorId: transactions run on connectors 1 and up", "connector");
      await ensureRow(st, version);
      const status = await authorize(r.idTag);
      const tx = await createTx16({
        stationId: st.id,
        evseId: connectorId,
        connectorId,
        idTag: typeof r.idTag === "string" ? r.idTag : null,
        startedAt: parseTime(r.timestamp, now),
        meterStartWh: typeof r.meterStart === "number" ? r.meterStart : null,
      });
      st.txs.set(tx.id, tx);
      await closeSuperseded(st, tx, "NewTransactionOnConnector");
      broadcast.emit("transaction", txView(tx));
      broadcast.emitStation(st);
      return { transactionId: Number(tx.transactionId), idTagInfo: { status } };
    },
    StopTransaction: async (version, st, r, now) => {
      await ensureRow(st, version);
      const tx = await findTx(st, String(r.transactionId));
      if (tx) {
        const meterStop = typeof r.meterStop === "number" ? r.meterStop : null;
        applySamples(st, tx.evseId, tx.connectorId, tx, parseMeterValues(r.transactionData));
        store.dirtyTx.delete(tx.id);
        Object.assign(tx, {
          active: false,
          stoppedAt: parseTime(r.timestamp, now),
          meterStopWh: meterStop,
          energyWh: meterStop !== null && tx.meterStartWh !== null ? Math.max(0, meterStop - tx.meterStartWh) : tx.energyWh,
          stopReason: typeof r.reason === "string" ? r.reason : "Local",
          powerW: null,
        });
        store.txWrite(tx);
        broadcast.emit("transaction", txView(tx));
        broadcast.emitStation(st);
      } else if (shouldLog(`unknown-tx:${st.id}`)) log.warn({ stationId: st.id, transactionId: r.transactionId }, "StopTransaction for an unknown transaction");
      return typeof r.idTag === "string" ? { idTagInfo: { status: await authorize(r.idTag) } } : {};
    },
    MeterValues: async (version, st, r) => {
      await ensureRow(st, version);
      const list = parseMeterValues(r.meterValue);
      if (version === "ocpp1.6") {
        const connectorId = checkConnector(st, "connectorId", r.connectorId);
        const tx = r.transactionId !== undefined ? await findTx(st, String(r.transactionId)) : activeTxOn(st, connectorId);
        applySamples(st, tx?.evseId ?? connectorId, tx?.connectorId ?? connectorId, tx, list);
      } else {
        const evseId = checkConnector(st, "evseId", r.evseId);
        const tx = activeTxOn(st, evseId);
        applySamples(st, evseId, tx?.connectorId ?? (evseId === 0 ? 0 : 1), tx, list);
      }
      return {};
    },
  };
};
