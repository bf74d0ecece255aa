import type { AlarmEngine } from "./alarms/alarm-engine";
import type { SummaryFeed } from "./api/feed";
import type { ViewContext } from "./api/views";
import type { Flags } from "./flags";
import type { Broker } from "./messaging/broker";
import type { RegionPipeline } from "./messaging/pipeline";
import type { Registry } from "./registry";
import type { LatestValues } from "./storage/latest-values";
import type { RegionStore } from "./storage/region-store";
import type { Rollups } from "./storage/rollups";

/** Everything one region runs on: its own store, broker and pipeline, never shared. */
export type RegionRuntime = {
  region: string;
  store: RegionStore;
  broker: Broker;
  rollups: Rollups;
  latest: LatestValues;
  alarms: AlarmEngine;
  pipeline?: RegionPipeline;
  view: ViewContext;
};

export type AuditEntry = { api: "summary" | "raw" | "admin"; actor: string; region: string | null; action: string; target: string | null; status: number; detail: unknown };

/** What the APIs need from the running service. */
export type MonitoringCore = {
  regions: Map<string, RegionRuntime>;
  registry: Registry;
  flags: Flags;
  feed: SummaryFeed;
  audit: (entry: AuditEntry) => void;
};
