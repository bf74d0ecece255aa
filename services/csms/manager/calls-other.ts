import type { ResultEnvelope } from "../../../contracts/csms/mqtt";
import { formatComponent, formatVariable, type Component201, type Variable201 } from "../../../contracts/csms/commands";
import type { StationState } from "./context";
import type { CallDeps, CallHandlers } from "./transactions";

/** CALLs answered without state (notifications the CSMS only acknowledges). */
const ACKNOWLEDGED = [
  "FirmwareStatusNotification",
  "DiagnosticsStatusNotification",
  "SecurityEventNotification",
  "NotifyEvent",
  "LogStatusNotification",
  "SignedFirmwareStatusNotification",
  "PublishFirmwareStatusNotification",
  "NotifyMonitoringReport",
  "NotifyChargingLimit",
  "ClearedChargingLimit",
  "NotifyCustomerInformation",
  "NotifyDisplayMessages",
  "NotifyEVChargingSchedule",
  "ReportChargingProfiles",
  "ReservationStatusUpdate",
];

/**
 * The rest of the station CALLs (DataTransfer, NotifyReport, acknowledged notifications) and
 * the stored side of manager CALL answers (configuration, heartbeat interval).
 */
export const createOtherCalls = ({ ctx, view, broadcast }: Pick<CallDeps, "ctx" | "view" | "broadcast">) => {
  const { db } = ctx;

  const upsertConfig = async (stationId: string, rows: { key?: string; component?: string; variable?: string; value: string | null; readonly: boolean | null }[]) => {
    if (!rows.length) return;
    await db.$executeRawUnsafe(
      `INSERT INTO "csms"."station_config" ("stationId", "key", "component", "variable", "value", "readonly", "updatedAt")
       SELECT $1, k, c, v, val, ro, now() FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::boolean[]) AS x(k, c, v, val, ro)
       ON CONFLICT ("stationId", "key", "component", "variable")
       DO UPDATE SET "value" = EXCLUDED."value", "readonly" = COALESCE(EXCLUDED."readonly", "station_config"."readonly"), "updatedAt" = now()`,
      stationId,
      rows.map((r) => r.key ?? ""),
      rows.map((r) => r.component ?? ""),
      rows.map((r) => r.variable ?? ""),
      rows.map((r) => r.value),
      rows.map((r) => r.readonly),
    );
  };

  const handlers: CallHandlers = {
    DataTransfer: async (_version, _st, r) => ({ status: r.vendorId === "Switchyard" ? "Accepted" : "UnknownVendorId" }),
    NotifyReport: async (_version, st, r) => {
      const data = Array.isArray(r.reportData) ? (r.reportData as { component: Component201; variable: Variable201; variableAttribute?: { type?: string; value?: string; mutability?: string }[] }[]) : [];
      await upsertConfig(
        st.id,
        data.map((d) => {
          const attr = d.variableAttribute?.find((a) => !a.type || a.type === "Actual") ?? d.variableAttribute?.[0];
          return { component: formatComponent(d.component), variable: formatVariable(d.variable), value: attr?.value ?? null, readonly: attr?.mutability ? attr.mutability === "ReadOnly" : null };
        }),
      );
      return {};
    },
    ...Object.fromEntries(ACKNOWLEDGED.map((action) => [action, async () => ({})])),
    NotifyEVChargingNeeds: async () => ({ status: "Rejected" }),
    SignCertificate: async () => ({ status: "Rejected" }),
  };

  /** A HeartbeatInterval the station accepted: online checks and the view use it from now on (and the next boot answers it). */
  const heartbeatChanged = async (st: StationState, value: unknown) => {
    const sec = Number(value);
    if (!Number.isInteger(sec) || sec <= 0 || sec > 86_400 || sec === st.heartbeatIntervalSec) return;
    st.heartbeatIntervalSec = sec;
    view.rememberHeartbeat(st.id, sec);
    await db.csmsStation.update({ where: { id: st.id }, data: { heartbeatIntervalSec: sec } }).catch(() => {});
    broadcast.emitStation(st);
  };

  /** Side effects of a manager CALL's answer (any manager may receive it: action and request are merged in). */
  const applyResult = async (st: StationState, env: ResultEnvelope) => {
    const stationId = st.id;
    const r = env.response;
    const req = env.request ?? {};
    switch (env.action) {
      case "GetConfiguration": {
        const keys = Array.isArray(r.configurationKey) ? (r.configurationKey as { key: string; readonly?: boolean; value?: string }[]) : [];
        await upsertConfig(stationId, keys.map((k) => ({ key: k.key, value: k.value ?? null, readonly: typeof k.readonly === "boolean" ? k.readonly : null })));
        const declared = Number(keys.find((k) => k.key === "NumberOfConnectors")?.value);
        if (Number.isInteger(declared) && declared > 0 && declared <= ctx.maxConnectorId) st.declaredConnectors = declared;
        return;
      }
      case "ChangeConfiguration":
        if (r.status === "Accepted" || r.status === "RebootRequired") {
          await upsertConfig(stationId, [{ key: String(req.key), value: String(req.value), readonly: false }]);
          if (req.key === "HeartbeatInterval") await heartbeatChanged(st, req.value);
        }
        return;
      case "GetVariables": {
        const results = Array.isArray(r.getVariableResult)
          ? (r.getVariableResult as { attributeStatus: string; component: Component201; variable: Variable201; attributeValue?: string }[])
          : [];
        await upsertConfig(
          stationId,
          results
            .filter((x) => x.attributeStatus === "Accepted")
            .map((x) => ({ component: formatComponent(x.component), variable: formatVariable(x.variable), value: x.attributeValue ?? null, readonly: null })),
        );
        return;
      }
      case "SetVariables": {
        const results = Array.isArray(r.setVariableResult) ? (r.setVariableResult as { attributeStatus: string; component: Component201; variable: Variable201 }[]) : [];
        const sent = Array.isArray(req.setVariableData) ? (req.setVariableData as { component: Component201; variable: Variable201; attributeValue: string }[]) : [];
        await upsertConfig(
          stationId,
          results.flatMap((x) => {
            if (x.attributeStatus !== "Accepted" && x.attributeStatus !== "RebootRequired") return [];
            const c = formatComponent(x.component);
            const v = formatVariable(x.variable);
            const s = sent.find((d) => formatComponent(d.component) === c && formatVariable(d.variable) === v);
            return s ? [{ component: c, variable: v, value: s.attributeValue, readonly: false }] : [];
          }),
        );
        const hb = results.find((x) => x.attributeStatus === "Accepted" && x.component?.name === "OCPPCommCtrlr" && x.variable?.name === "HeartbeatInterval");
        if (hb) await heartbeatChanged(st, sent.find((d) => d.component?.name === "OCPPCommCtrlr" && d.variable?.name === "HeartbeatInterval")?.attributeValue);
        return;
      }
    }
  };

  return { handlers, applyResult };
};
