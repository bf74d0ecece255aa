import type { Allocation, Device, FlexRequest, RequestRevision, Trade } from "../../contracts/flex/entities";
import type { TokenBucket } from "../csms/gateway/rate-limit";

/** The flex node's records, shared by its parts (node.ts wires them; node-http.ts serves them). */
export type DeviceRec = {
  device: Device;
  passwordHash: string;
  online: boolean;
  powerW: number | null;
  setpointW: number | null;
  lastSeen: number;
  bucket?: TokenBucket;
  lastThrottleNotice?: number;
};
export type RequestRec = { request: FlexRequest; revisions: RequestRevision[] };
export type TradeRec = { trade: Trade; allocations: Allocation[] };
export type Principal = { kind: "participant"; id: string; role: "TSO" | "DSO" | "FSP" } | { kind: "console" };
export type Auth = "any" | "trader" | "fsp" | "console" | "peer";

export const revisionOf = (r: FlexRequest): RequestRevision => ({
  revision: r.revision,
  quantityW: r.quantityW,
  minQuantityW: r.minQuantityW,
  maxUnitPrice: r.maxUnitPrice,
  periodFrom: r.periodFrom,
  periodTo: r.periodTo,
  expiresAt: r.expiresAt,
  status: r.status,
  updatedAt: r.updatedAt,
});
