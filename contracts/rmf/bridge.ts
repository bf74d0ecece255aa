import { z } from "zod";
import {
  alertRequestSchema,
  alertResponseSchema,
  beaconStateSchema,
  buildingMapSchema,
  deliveryAlertSchema,
  dispenserStateSchema,
  doorStateSchema,
  fireAlarmTriggerSchema,
  ingestorStateSchema,
  liftStateSchema,
  rioSchema,
  timeSchema,
} from "./models";
import { isRoomName } from "./rooms";

/**
 * The Switchyard RMF bridge: the stand-in for ROS 2 between main and "RMF itself" (RMF core,
 * fleet, door, lift and workcell adapters; here sim/rmf). Real rmf-web reaches RMF through
 * rclpy topics and services; this is the same traffic as JSON frames on one websocket
 * (`/_bridge` on main, `Authorization: Bearer <RMF_INTERNAL_TOKEN>`), shaped after the
 * rosbridge v2 protocol (`op` publish / call_service / service_response). It is not part of
 * the rmf-web-compatible surface. Fleet and task state still arrive over `/_internal`, as
 * real fleet adapters send them. See services/rmf/README.md.
 */
export const BRIDGE_PATH = "/_bridge";

/** RMF → main topics (ROS topic names without the leading slash). */
export const bridgeInTopics = {
  door_states: doorStateSchema,
  lift_states: liftStateSchema,
  dispenser_states: dispenserStateSchema,
  ingestor_states: ingestorStateSchema,
  map: buildingMapSchema,
  fire_alarm_trigger: fireAlarmTriggerSchema,
  alerts: alertRequestSchema,
  alert_responses: alertResponseSchema,
  beacon_state: beaconStateSchema,
  delivery_alert_request: deliveryAlertSchema,
  rio: rioSchema,
  /** Which fleets this RMF runs: task commands for them go to this bridge (Switchyard). */
  fleets: z.object({ fleets: z.array(z.string().refine(isRoomName)) }),
} as const;
export type BridgeInTopic = keyof typeof bridgeInTopics;

/** main → RMF topics. */
export const bridgeOutTopics = {
  adapter_door_requests: z.object({ door_name: z.string(), requested_mode: z.object({ value: z.number().int() }), requester_id: z.string(), request_time: timeSchema }),
  adapter_lift_requests: z.object({
    lift_name: z.string(),
    session_id: z.string(),
    request_type: z.number().int(),
    destination_floor: z.string(),
    door_state: z.number().int(),
    request_time: timeSchema,
  }),
  alert_responses: alertResponseSchema,
  mutex_group_manual_release: z.object({ fleet: z.string(), robot: z.string(), mutex_groups: z.array(z.string()) }),
  fire_alarm_reset: z.object({ unix_millis_time: z.number().int() }),
} as const;
export type BridgeOutTopic = keyof typeof bridgeOutTopics;

/**
 * main → RMF service calls. `task_api` carries rmf-web's task API JSON (`json_msg`: the
 * REST body of dispatch/robot task/cancel/…, or a `robot_commission_request`); its answer
 * is RMF's JSON response (`values.json_msg`).
 */
export const BRIDGE_SERVICES = ["task_api"] as const;
export type BridgeService = (typeof BRIDGE_SERVICES)[number];

export const bridgePublishSchema = z.object({ op: z.literal("publish"), topic: z.string(), msg: z.unknown() });
export const bridgeCallServiceSchema = z.object({ op: z.literal("call_service"), id: z.string(), service: z.enum(BRIDGE_SERVICES), args: z.object({ json_msg: z.record(z.string(), z.unknown()) }) });
export const bridgeServiceResponseSchema = z.object({ op: z.literal("service_response"), id: z.string(), service: z.enum(BRIDGE_SERVICES), result: z.boolean(), values: z.object({ json_msg: z.record(z.string(), z.unknown()) }) });
/** Either side may report a frame it could not accept. */
export const bridgeStatusSchema = z.object({ op: z.literal("status"), level: z.enum(["info", "warning", "error"]), msg: z.string() });

export const bridgeFrameSchema = z.discriminatedUnion("op", [bridgePublishSchema, bridgeCallServiceSchema, bridgeServiceResponseSchema, bridgeStatusSchema]);
export type BridgeFrame = z.infer<typeof bridgeFrameSchema>;
export type BridgeCallService = z.infer<typeof bridgeCallServiceSchema>;
export type BridgeServiceResponse = z.infer<typeof bridgeServiceResponseSchema>;

/** A robot_commission_request on task_api (decommission / recommission). */
export const robotCommissionRequestSchema = z.object({
  type: z.literal("robot_commission_request"),
  robot: z.object({ fleet: z.string(), robot: z.string() }),
  commission: z.object({ dispatch_tasks: z.boolean(), direct_tasks: z.boolean(), idle_behavior: z.boolean() }),
  pending_dispatch_tasks_policy: z.enum(["reassign", "complete", "cancel"]).optional(),
});
export type RobotCommissionRequest = z.infer<typeof robotCommissionRequestSchema>;
