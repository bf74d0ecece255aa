import "server-only";
import { ZMeterEvent, ZStationView, ZTransactionView } from "../../../contracts/csms/api";
import { logger } from "../../../lib/log";
import type { UpstreamHealth } from "../health";
import { startLiveView, type LiveViewTiming } from "../kit/live-view";
import type { CsmsClient } from "./client";
import { chargingStore, type ChargingStore } from "./store";

export type CsmsLiveViewOptions = LiveViewTiming & { client: CsmsClient; health: UpstreamHealth; store?: ChargingStore };

/**
 * The CSMS on the kit's snapshot-then-follow loop: the stations snapshot fills the store,
 * then the manager's feed (`GET /api/v0/events`) upserts stations and meter readings.
 */
export const startCsmsLiveView = ({ client, health, store = chargingStore(), ...timing }: CsmsLiveViewOptions) =>
  startLiveView({
    ...timing,
    id: "charging",
    client: client.http,
    health,
    fetchSnapshot: (signal) => client.snapshot(signal),
    applySnapshot: ({ epoch, seq, stations }) => {
      const changed = store.stations.applySnapshot(stations);
      logger().debug({ connector: "charging", stations: stations.length, changed }, "csms stations snapshot");
      return { epoch, seq };
    },
    eventsPath: "/api/v0/events",
    events: {
      station: { schema: ZStationView, apply: (station) => store.stations.upsert(station) },
      meter: { schema: ZMeterEvent, apply: (meter) => store.meters.upsert(meter) },
      // Checked like the rest, but nothing to keep: a station event carries its active
      // transaction ids, and the pages read transactions through the API.
      transaction: { schema: ZTransactionView, apply: () => {} },
    },
  });
