import "server-only";
import { PROBLEM_STATUSES } from "@/contracts/console/commands";
import { isDomainLink } from "@/contracts/console/links";
import { upstreamHealth } from "../connectors/health";
import type { Db } from "../db";

/** The domains Switchyard will aggregate; each lands here when its connector exists. */
export const DOMAINS = [
  { id: "charging", label: "Charging", description: "OCPP 1.6J / 2.0.1 charge stations via the CSMS" },
  { id: "robots", label: "Robots", description: "Open-RMF fleets, tasks, doors and lifts" },
  { id: "flex", label: "Flex market", description: "TSO/DSO flexibility requests, offers, activations" },
  { id: "monitoring", label: "Monitoring", description: "Device telemetry, rollups and alarms" },
] as const;

/**
 * The overview page: each domain and whether its link is up, every link, commands in the last
 * 24 h — only `actorId`'s own when given (traders see only their own commands, here as on
 * the Commands page the tiles link to).
 */
export const getOverview = async (db: Db, { actorId }: { actorId?: string } = {}) => {
  const since = new Date(Date.now() - 24 * 3600_000);
  const mine = actorId ? { actorId } : {};
  const [commands24h, failed24h] = await Promise.all([
    db.command.count({ where: { createdAt: { gte: since }, ...mine } }),
    db.command.count({ where: { createdAt: { gte: since }, status: { in: [...PROBLEM_STATUSES] }, ...mine } }),
  ]);
  const links = upstreamHealth().list();
  return {
    domains: DOMAINS.map((d) => ({ ...d, connected: links.some((l) => isDomainLink(l.id, d.id) && l.state === "connected") })),
    links,
    commands24h,
    failed24h,
  };
};
