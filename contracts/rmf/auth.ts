import { z } from "zod";

/**
 * The JWT every client of the RMF api-server presents (socket.io handshake `auth.token`,
 * REST `Authorization: Bearer`): HS256, rmf-web's claims (audience `rmf_api_server`, an
 * issuer the deployment names, the user in `preferred_username`) plus Switchyard's
 * `permissions` claim, which main and every proxy enforce.
 */
export const RMF_JWT_AUDIENCE = "rmf_api_server";
export const RMF_JWT_ALGORITHM = "HS256";

/**
 * - `task_read`: task rooms and task/alert queries
 * - `task_submit`: dispatch and robot tasks, resume, undo skip, discovery, alert responses
 * - `task_cancel`: cancel, kill, interrupt, skip phase, rewind
 * - `door_control` / `lift_control`: door and lift requests
 * - `admin`: everything, plus `/admin/*`, fleet (de)commissioning, mutex unlocks, fire alarm reset, posting alerts
 * Fleets, doors, lifts, dispensers, ingestors, the map, beacons and the time need only a valid token.
 */
export const RMF_PERMISSIONS = ["task_read", "task_submit", "task_cancel", "door_control", "lift_control", "admin"] as const;
export type RmfPermission = (typeof RMF_PERMISSIONS)[number];

export const rmfJwtClaimsSchema = z.object({
  preferred_username: z.string().min(1).max(256),
  /** Unknown names are ignored rather than refusing the token, so older servers accept newer tokens. */
  permissions: z
    .array(z.string())
    .optional()
    .transform((list) => (list ?? []).filter((p): p is RmfPermission => (RMF_PERMISSIONS as readonly string[]).includes(p))),
  /**
   * Set only in a fan-out proxy's upstream token: its one socket on main carries the rooms
   * of all the proxy's clients, so main's per-socket room cap and subscribe rate (meant for
   * one client) do not apply to it; the proxy enforces them per client.
   */
  switchyard_fan_out: z.boolean().optional(),
});
export type RmfUser = { username: string; permissions: ReadonlySet<RmfPermission>; fanOut?: boolean };

export const hasPermission = (user: RmfUser, permission: RmfPermission) => user.permissions.has("admin") || user.permissions.has(permission);
