import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import {
  alertRequestSchema,
  alertResponseSchema,
  beaconStateSchema,
  buildingMapSchema,
  deliveryAlertSchema,
  dispatchTaskRequestSchema,
  dispenserStateSchema,
  doorRequestSchema,
  doorStateSchema,
  fireAlarmTriggerSchema,
  fleetLogSchema,
  fleetStateSchema,
  ingestorStateSchema,
  liftRequestSchema,
  liftStateSchema,
  parseInternalFrame,
  parseRoom,
  rioSchema,
  rmfResponseSchema,
  robotTaskRequestSchema,
  ROOM_SPECS,
  taskDispatchResponseSchema,
  taskEventLogSchema,
  taskStateSchema,
  validationErrorSchema,
  cancelTaskRequestSchema,
  killTaskRequestSchema,
} from "../../contracts/rmf";

// A copy of the reference examples (rmf-web's exact shapes) lives in fixtures/.
const fixture = (name: string) => JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "fixtures", name), "utf8")) as Record<string, unknown>;

describe("the RMF contract against rmf-web's payloads", () => {
  it("parses every room example unchanged", () => {
    const cases: [string, { parse: (v: unknown) => unknown }][] = [
      ["rooms/building_map.json", buildingMapSchema],
      ["rooms/fire_alarm_trigger.json", fireAlarmTriggerSchema],
      ["rooms/door_state.json", doorStateSchema],
      ["rooms/lift_state.json", liftStateSchema],
      ["rooms/dispenser_state.json", dispenserStateSchema],
      ["rooms/ingestor_state.json", ingestorStateSchema],
      ["rooms/fleet_state.json", fleetStateSchema],
      ["rooms/fleet_log.json", fleetLogSchema],
      ["rooms/task_state.json", taskStateSchema],
      ["rooms/task_log.json", taskEventLogSchema],
      ["rooms/alert_request.json", alertRequestSchema],
      ["rooms/alert_response.json", alertResponseSchema],
      ["rooms/beacon_state.json", beaconStateSchema],
      ["rooms/rio.json", rioSchema],
      ["rooms/delivery_alert.json", deliveryAlertSchema],
    ];
    for (const [file, schema] of cases) expect(schema.parse(fixture(file)), file).toEqual(fixture(file));
  });

  it("normalises what fleet adapters leave out to null, exactly as rmf-web emits it", () => {
    const fleet = parseInternalFrame(JSON.stringify(fixture("internal/fleet_state_update.json")));
    expect(fleet.ok && fleet.message.data).toEqual(fixture("rooms/fleet_state.json"));
    const task = parseInternalFrame(JSON.stringify(fixture("internal/task_state_update.json")));
    expect(task.ok && task.message.data).toEqual(fixture("rooms/task_state.json"));
    const taskLog = parseInternalFrame(JSON.stringify(fixture("internal/task_log_update.json")));
    expect(taskLog.ok && taskLog.message.data).toEqual(fixture("rooms/task_log.json"));
    const fleetLog = parseInternalFrame(JSON.stringify(fixture("internal/fleet_log_update.json")));
    expect(fleetLog.ok && fleetLog.message.data).toEqual(fixture("rooms/fleet_log.json"));
  });

  it("parses the REST bodies and answers", () => {
    expect(dispatchTaskRequestSchema.safeParse(fixture("rest/dispatch_task_request.json")).success).toBe(true);
    expect(robotTaskRequestSchema.safeParse(fixture("rest/robot_task_request.json")).success).toBe(true);
    expect(cancelTaskRequestSchema.safeParse(fixture("rest/cancel_task_request.json")).success).toBe(true);
    expect(killTaskRequestSchema.safeParse(fixture("rest/kill_task_request.json")).success).toBe(true);
    expect(doorRequestSchema.safeParse(fixture("rest/door_request.json")).success).toBe(true);
    expect(liftRequestSchema.safeParse(fixture("rest/lift_request.json")).success).toBe(true);
    expect(taskDispatchResponseSchema.parse(fixture("rest/dispatch_task_response_200.json"))).toEqual(fixture("rest/dispatch_task_response_200.json"));
    expect(taskDispatchResponseSchema.parse(fixture("rest/dispatch_task_response_400.json"))).toEqual(fixture("rest/dispatch_task_response_400.json"));
    expect(rmfResponseSchema.parse(fixture("rest/cancel_task_response_ok.json"))).toEqual({ success: true });
    expect(rmfResponseSchema.parse(fixture("rest/cancel_task_response_fail_http200.json"))).toEqual(fixture("rest/cancel_task_response_fail_http200.json"));
    expect(validationErrorSchema.safeParse(fixture("rest/fastapi_422_example.json")).success).toBe(true);
  });

  it("rejects unknown keys in task logs (as rmf-web does) and malformed /_internal frames", () => {
    expect(taskEventLogSchema.safeParse({ ...fixture("rooms/task_log.json"), extra: 1 }).success).toBe(false);
    expect(parseInternalFrame("{nope")).toEqual({ ok: false, error: "not JSON" });
    expect(parseInternalFrame(JSON.stringify({ type: "fleet_state_update" }))).toMatchObject({ ok: false });
    expect(parseInternalFrame(JSON.stringify({ type: "bogus", data: {} }))).toEqual({ ok: false, error: "unknown type 'bogus'" });
    expect(parseInternalFrame(JSON.stringify({ type: "fleet_state_update", data: { name: "a/b", robots: {} } }))).toMatchObject({ ok: false });
    expect(parseInternalFrame(JSON.stringify({ type: "fleet_state_update", data: { name: "f", robots: { r: { battery: 7 } } } }))).toMatchObject({ ok: false });
  });

  it("knows every room of the reference and decodes rooms before matching", () => {
    const index = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, "fixtures/rooms/index.json"), "utf8")) as { example_room: string; sticky: string }[];
    for (const entry of index) {
      const parsed = parseRoom(entry.example_room);
      expect(parsed, entry.example_room).not.toBeNull();
      expect(ROOM_SPECS[parsed!.kind].sticky, entry.example_room).toBe(entry.sticky.startsWith("yes"));
    }
    expect(parseRoom("/fleets/tiny%20Robot/state")).toEqual({ kind: "fleet_state", room: "/fleets/tiny Robot/state", name: "tiny Robot" });
    expect(parseRoom("/fleets/a%2Fb/state")).toBeNull();
    expect(parseRoom("/fleets")).toBeNull();
    expect(parseRoom("/nope")).toBeNull();
    expect(parseRoom("%E0%A4%A")).toBeNull();
  });
});
