import type { Core } from "./core";
import type { Session, RebootKind } from "./session";
import { VENDOR, type Settings } from "./settings";
import type { Wire } from "./wire";

/**
 * Connection and boot: the first connect (and the one after a reboot) with backoff, the
 * BootNotification loop (Pending/Rejected/no answer), what a reconnect resends, and the
 * reboot after a Reset. ocpp-rpc reconnects a dropped socket by itself.
 */

const FIRMWARE = "1.4.2";

export type BootConf = { status: "Accepted" | "Pending" | "Rejected"; interval: number; currentTime: string };

export const createBoot = (ctx: Core & Wire & Settings & Session) => {
  const { id, v16, model, connectors, station, link, stats, rng, log, now, rebootDelay, bootRetryMs } = ctx;
  const { client, call, canSend, txQueue, sleep, setSetting, sendStatus, syncAll, stopTransaction } = ctx;

  const reboot = async (kind: RebootKind) => {
    if (link.rebooting || link.closed) return;
    link.rebooting = true;
    try {
      log.info({ kind }, "rebooting");
      link.shuttingDown = true;
      for (const c of connectors) if (c.tx) await stopTransaction(c, kind);
      // Tell the CSMS before going away, so the console shows Unavailable during the reboot.
      if (canSend()) {
        if (v16) await sendStatus(0, "Unavailable");
        for (const c of connectors) await sendStatus(c, "Unavailable");
      }
      link.bootStatus = "None";
      link.needBoot = true;
      link.bootReason = "RemoteReset";
      link.nextHeartbeatAt = Number.POSITIVE_INFINITY;
      await client.close({ code: 1000, reason: "rebooting" }).catch(() => {});
      link.connected = false;
      link.shuttingDown = false;
      await sleep(rng.int(rebootDelay[0], rebootDelay[1]));
      if (link.closed) return;
      for (const c of connectors) c.lastStatus = undefined;
      station.lastStatus0 = undefined;
      await connectLoop();
    } finally {
      link.rebooting = false;
      link.shuttingDown = false;
    }
  };

  const bootPayload = () =>
    v16
      ? { chargePointVendor: VENDOR, chargePointModel: model, chargePointSerialNumber: `SN-${id}`.slice(0, 25), firmwareVersion: FIRMWARE, meterType: "SY-MID" }
      : { reason: link.bootReason, chargingStation: { model, vendorName: VENDOR, serialNumber: `SN-${id}`.slice(0, 25), firmwareVersion: FIRMWARE } };

  const applyBoot = async (res: BootConf) => {
    if (res.status !== "Accepted") {
      link.bootStatus = res.status;
      return false;
    }
    link.bootStatus = "Accepted";
    link.needBoot = false;
    link.bootReason = "PowerUp";
    stats.boots += 1;
    if (res.interval > 0) {
      link.heartbeatIntervalS = res.interval;
      setSetting("HeartbeatInterval", "OCPPCommCtrlr", "HeartbeatInterval", String(res.interval));
    }
    link.nextHeartbeatAt = now() + link.heartbeatIntervalS * 1000;
    log.info({ interval: link.heartbeatIntervalS }, "booted");
    const waiters = link.bootWaiters;
    link.bootWaiters = [];
    for (const w of waiters) w();
    await txQueue.flush();
    await syncAll({ force: true });
    return true;
  };

  const bootLoop = async (gen: number) => {
    while (!link.closed && link.connected && gen === link.connGen) {
      const res = await call<BootConf>("BootNotification", bootPayload(), { force: true });
      if (gen !== link.connGen || link.closed) return;
      if (!res) {
        await sleep(bootRetryMs);
        continue;
      }
      if (await applyBoot(res)) return;
      // Pending/Rejected: try again after the interval the CSMS asked for.
      await sleep((res.interval > 0 ? res.interval : 10) * 1000);
    }
  };

  client.on("open", () => {
    link.connected = true;
    link.connGen += 1;
    for (const c of connectors) c.lastStatus = undefined;
    station.lastStatus0 = undefined;
    if (link.needBoot) void bootLoop(link.connGen);
    // After a mere reconnect OCPP needs no new boot, but the CSMS may have missed changes
    // (and the transaction messages queued while offline go first).
    else void txQueue.flush().then(() => syncAll({ force: true }));
  });
  client.on("disconnect", () => {
    if (link.connected && !link.rebooting && !link.closed) stats.reconnects += 1;
    link.connected = false;
  });

  /** The first connection (and the one after a reboot); ocpp-rpc reconnects by itself afterwards. */
  const connectLoop = async () => {
    let delay = 1000;
    while (!link.closed) {
      try {
        await client.connect();
        return;
      } catch (error) {
        if (link.closed) return;
        const status = (error as { code?: number }).code;
        log.warn({ err: (error as Error).message, status }, "connect failed; retrying");
        await sleep(delay * (0.75 + rng.next() * 0.5));
        delay = Math.min(delay * 2, 30_000);
      }
    }
  };

  return { bootPayload, connectLoop, reboot };
};

export type Boot = ReturnType<typeof createBoot>;
