import "server-only";
import { z } from "zod";
import { ZStationId } from "../../../../contracts/csms/commands";
import { zId } from "../../../../contracts/flex/entities";

export const ZBridgeStatus = z.object({
  stationId: z.string(),
  deviceId: z.string(),
  nodeId: z.string(),
  gridNodeId: z.string(),
  maxPowerW: z.number(),
  startedBy: z.string(),
  startedAt: z.number(),
  connected: z.boolean(),
  meteredW: z.number().nullable(),
  limitW: z.number().nullable(),
  activations: z.number(),
  refused: z.record(z.string(), z.number()),
  commands: z.number(),
  lastCommandStatus: z.string().nullable(),
  lastError: z.string().nullable(),
});
export const ZListBridgesResponseSchema = z.array(ZBridgeStatus);

export const ZStartBridgeRequestSchema = z
  .object({
    stationId: ZStationId,
    nodeId: zId,
    gridNodeId: zId,
    /** The station's own limit: what it offers at most, and what the profile returns to. */
    maxPowerW: z.number().int("whole watts").min(1000, "must be at least 1000 W").max(1_000_000, "must be at most 1,000,000 W"),
    /** EUR/MWh for its offers. */
    unitPrice: z.number().min(0).max(15_000).optional(),
  })
  .strict();
export const ZStopBridgeRequestSchema = z.object({ stationId: ZStationId }).strict();
