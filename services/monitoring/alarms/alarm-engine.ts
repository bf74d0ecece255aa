import { randomUUID } from "node:crypto";
import type { SqlRunner } from "../../../lib/db/migrate";
import { HttpError } from "../../lib/http";
import { ALARM_SEVERITIES, type AlarmSeverity, type AlarmType, type AlarmView } from "../../../contracts/monitoring";
import { metricsFor, statusOf, type StoredRecord } from "../transform/derive-records";
import type { DeviceState } from "../storage/latest-values";
import { DEFAULT_THRESHOLDS, evaluateRecord, RULE_TYPES, type AlarmThresholds, type Condition } from "./rules";

/**
 * One region's alarms: at most one active alarm per device and type. A condition raised by
 * any part of a device (any pack of a pms) keeps the alarm active at the worst severity any
 * part reports; it clears itself when no part reports it any more. Operators acknowledge and
 * clear with their name and a comment; a cleared alarm whose condition returns is a new alarm.
 * Writes are few (raise, escalate, acknowledge, clear) and go to the store in order.
 */
type AlarmRow = {
  id: string; site: string; device: string; dataset: string; type: AlarmType; severity: AlarmSeverity; active: boolean; acknowledged: boolean;
  message: string; details: unknown; created_at: Date | string; updated_at: Date | string; cleared_at: Date | string | null; acknowledged_at: Date | string | null;
  acknowledged_by: string | null; ack_comment: string | null; cleared_by: string | null; clear_comment: string | null;
};
const isoOf = (v: Date | string | null) => (v === null ? null : new Date(v).toISOString());

export const alarmStatus = (a: { active: boolean; acknowledged: boolean }) => `${a.active ? "active" : "cleared"}_${a.acknowledged ? "ack" : "unack"}` as AlarmView["status"];

const fromRow = (region: string, r: AlarmRow): AlarmView => ({
  id: r.id, region, site: r.site, device: r.device, dataset: r.dataset, type: r.type, severity: r.severity,
  status: alarmStatus(r), active: r.active, acknowledged: r.acknowledged, message: r.message,
  details: (typeof r.details === "string" ? JSON.parse(r.details) : r.details) as Record<string, unknown>,
  createdAt: isoOf(r.created_at)!, updatedAt: isoOf(r.updated_at)!, clearedAt: isoOf(r.cleared_at), acknowledgedAt: isoOf(r.acknowledged_at),
  acknowledgedBy: r.acknowledged_by, ackComment: r.ack_comment, clearedBy: r.cleared_by, clearComment: r.clear_comment,
});

const rank = (s: AlarmSeverity) => ALARM_SEVERITIES.indexOf(s);

export type AlarmEngineOptions = {
  region: string;
  db: SqlRunner;
  thresholds?: AlarmThresholds;
  /** A device is silent after this many missed reporting intervals. */
  silentIntervals?: number;
  reportIntervalMs?: number;
  onChange?: (alarm: AlarmView) => void;
  onError?: (error: Error) => void;
  now?: () => number;
};

export const createAlarmEngine = ({ region, db, thresholds = DEFAULT_THRESHOLDS, silentIntervals = 6, reportIntervalMs = 10_000, onChange = () => {}, onError = () => {}, now = Date.now }: AlarmEngineOptions) => {
  const active = new Map<string, AlarmView>();
  /** device|type → part → condition. */
  const conditions = new Map<string, Map<string, Condition>>();
  let writes: Promise<unknown> = Promise.resolve();
  const key = (device: string, type: string) => `${device}|${type}`;

  const persist = (sql: string, params: unknown[]) => {
    writes = writes.then(() => db.query(sql, params)).catch((error: unknown) => onError(error as Error));
    return writes;
  };
  const save = (a: AlarmView) =>
    persist(
      `INSERT INTO "monitoring"."alarm" (id, site, device, dataset, type, severity, active, acknowledged, message, details, created_at, updated_at, cleared_at, acknowledged_at, acknowledged_by, ack_comment, cleared_by, clear_comment)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::json, $11, $12, $13, $14, $15, $16, $17, $18)
       ON CONFLICT (id) DO UPDATE SET severity = EXCLUDED.severity, active = EXCLUDED.active, acknowledged = EXCLUDED.acknowledged, message = EXCLUDED.message,
         details = EXCLUDED.details, updated_at = EXCLUDED.updated_at, cleared_at = EXCLUDED.cleared_at, acknowledged_at = EXCLUDED.acknowledged_at,
         acknowledged_by = EXCLUDED.acknowledged_by, ack_comment = EXCLUDED.ack_comment, cleared_by = EXCLUDED.cleared_by, clear_comment = EXCLUDED.clear_comment`,
      [a.id, a.site, a.device, a.dataset, a.type, a.severity, a.active, a.acknowledged, a.message, JSON.stringify(a.details), a.createdAt, a.updatedAt, a.clearedAt, a.acknowledgedAt, a.acknowledgedBy, a.ackComment, a.clearedBy, a.clearComment],
    );

  const raiseOrUpdate = (site: string, device: string, dataset: string, type: AlarmType, condition: Condition) => {
    const k = key(device, type);
    const at = new Date(now()).toISOString();
    const existing = active.get(k);
    if (!existing) {
      const alarm: AlarmView = {
        id: randomUUID(), region, site, device, dataset, type, severity: condition.severity, status: "active_unack", active: true, acknowledged: false,
        message: condition.message, details: condition.details, createdAt: at, updatedAt: at, clearedAt: null, acknowledgedAt: null,
        acknowledgedBy: null, ackComment: null, clearedBy: null, clearComment: null,
      };
      active.set(k, alarm);
      void save(alarm);
      onChange(alarm);
      return;
    }
    const escalated = existing.severity !== condition.severity;
    existing.message = condition.message;
    existing.details = condition.details;
    existing.updatedAt = at;
    // Persist and announce only real changes: a persisting condition is no news every 10 s.
    if (escalated) {
      existing.severity = condition.severity;
      void save(existing);
      onChange(existing);
    }
  };

  const clearActive = (k: string, by: string, comment: string | null) => {
    const alarm = active.get(k);
    if (!alarm) return undefined;
    active.delete(k);
    const at = new Date(now()).toISOString();
    Object.assign(alarm, { active: false, clearedAt: at, updatedAt: at, clearedBy: by, clearComment: comment });
    alarm.status = alarmStatus(alarm);
    void save(alarm);
    onChange(alarm);
    return alarm;
  };

  /** Evaluates current (not late) records. */
  const evaluate = (records: StoredRecord[]) => {
    for (const r of records) {
      const found = evaluateRecord({ dataset: r.dataset, part: r.part, metrics: metricsFor(r), status: statusOf(r.record) }, thresholds);
      for (const type of RULE_TYPES[r.dataset]) {
        const k = key(r.device, type);
        let parts = conditions.get(k);
        const condition = found.get(type);
        if (condition) {
          if (!parts) conditions.set(k, (parts = new Map()));
          parts.set(r.part, condition);
        } else parts?.delete(r.part);
        if (!parts || parts.size === 0) {
          conditions.delete(k);
          clearActive(k, "system", "condition ended");
          continue;
        }
        const worstPart = [...parts.values()].reduce((a, b) => (rank(b.severity) < rank(a.severity) ? b : a));
        raiseOrUpdate(r.site, r.device, r.dataset, type, worstPart);
      }
      // Data again: a silent device is not silent any more.
      const silentKey = key(r.device, "device_silent");
      if (active.has(silentKey)) clearActive(silentKey, "system", "device reporting again");
    }
  };

  /** Raises device_silent for devices that missed `silentIntervals` reports. */
  const sweepSilent = (devices: Iterable<DeviceState>) => {
    const limit = silentIntervals * reportIntervalMs;
    const t = now();
    for (const d of devices) {
      const silentFor = t - d.lastSeen;
      if (silentFor <= limit) continue;
      raiseOrUpdate(d.site, d.id, d.dataset, "device_silent", {
        severity: "warning",
        message: `no data for ${Math.round(silentFor / 1000)} s (expected every ${reportIntervalMs / 1000} s)`,
        details: { lastSeenAt: new Date(d.lastSeen).toISOString(), intervals: silentIntervals },
      });
    }
  };

  const restore = async () => {
    const { rows } = await db.query<AlarmRow>(`SELECT * FROM "monitoring"."alarm" WHERE active`);
    for (const r of rows) active.set(key(r.device, r.type), fromRow(region, r));
    return rows.length;
  };

  const findById = async (id: string) => {
    for (const a of active.values()) if (a.id === id) return a;
    const { rows } = await db.query<AlarmRow>(`SELECT * FROM "monitoring"."alarm" WHERE id = $1`, [id]);
    return rows[0] ? fromRow(region, rows[0]) : undefined;
  };

  const acknowledge = async (id: string, actor: string, comment: string | null) => {
    const alarm = await findById(id);
    if (!alarm) throw new HttpError(404, "not_found", `no alarm ${id} in ${region}`);
    if (alarm.acknowledged) throw new HttpError(409, "already_acknowledged", `alarm ${id} was acknowledged by ${alarm.acknowledgedBy}`);
    const at = new Date(now()).toISOString();
    Object.assign(alarm, { acknowledged: true, acknowledgedAt: at, acknowledgedBy: actor, ackComment: comment, updatedAt: at });
    alarm.status = alarmStatus(alarm);
    await save(alarm);
    onChange(alarm);
    return alarm;
  };

  const clear = async (id: string, actor: string, comment: string | null) => {
    const alarm = await findById(id);
    if (!alarm) throw new HttpError(404, "not_found", `no alarm ${id} in ${region}`);
    if (!alarm.active) throw new HttpError(409, "already_cleared", `alarm ${id} is already cleared`);
    const k = key(alarm.device, alarm.type);
    // The condition must be seen afresh to raise again, as a new alarm.
    conditions.delete(k);
    const cleared = clearActive(k, actor, comment)!;
    await writes;
    return cleared;
  };

  const list = async ({ status, site, device, severity, limit, cursor }: { status: "active" | "cleared" | "all"; site?: string; device?: string; severity?: AlarmSeverity; limit: number; cursor?: { at: string; id: string } }) => {
    const where: string[] = [];
    const params: unknown[] = [];
    const add = (sql: string, value: unknown) => {
      params.push(value);
      where.push(sql.replace("?", `$${params.length}`));
    };
    if (status !== "all") where.push(status === "active" ? "active" : "NOT active");
    if (site) add("site = ?", site);
    if (device) add("device = ?", device);
    if (severity) add("severity = ?", severity);
    if (cursor) {
      params.push(cursor.at, cursor.id);
      where.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length})`);
    }
    params.push(limit + 1);
    await writes;
    const { rows } = await db.query<AlarmRow>(`SELECT * FROM "monitoring"."alarm" ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`, params);
    const items = rows.slice(0, limit).map((r) => active.get(key(r.device, r.type))?.id === r.id ? active.get(key(r.device, r.type))! : fromRow(region, r));
    const last = items.at(-1);
    return { items, next: rows.length > limit && last ? { at: last.createdAt, id: last.id } : undefined };
  };

  return {
    evaluate,
    sweepSilent,
    restore,
    acknowledge,
    clear,
    list,
    /** One alarm of this region by id (active or cleared), or undefined. */
    get: findById,
    active: () => active.values(),
    flush: () => writes,
  };
};
export type AlarmEngine = ReturnType<typeof createAlarmEngine>;
