import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { DEVICE_USERNAME_PREFIX, deviceAcl } from "../../contracts/flex/mqtt";
import type { BrokerIdentity } from "../site/module";

/**
 * The device side of broker authorization as pure functions, so the site's embedded broker,
 * the node's own broker and the tests enforce one rule: a device logs in as
 * `flex-device-<id>` with its password and may only use its own topics.
 */

/** Does an MQTT topic filter (`+`, `#`) match a concrete topic? */
export const topicMatches = (filter: string, topic: string) => {
  if (filter === topic) return true;
  const f = filter.split("/");
  const t = topic.split("/");
  for (let i = 0; i < f.length; i++) {
    if (f[i] === "#") return i === f.length - 1;
    if (i >= t.length) return false;
    if (f[i] !== "+" && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
};

/**
 * May `identity` subscribe with `filter`? A subscription is allowed only when the filter is
 * no wider than one it was granted: literally equal, or matched level by level.
 */
export const filterAllowed = (granted: string[], filter: string) =>
  granted.some((g) => g === filter || (!filter.includes("#") && !filter.includes("+") && topicMatches(g, filter)));

export const mayPublish = (identity: BrokerIdentity, topic: string) => identity.publish.some((f) => topicMatches(f, topic));
export const maySubscribe = (identity: BrokerIdentity, filter: string) => filterAllowed(identity.subscribe, filter);

export const deviceUsername = (deviceId: string) => `${DEVICE_USERNAME_PREFIX}${deviceId}`;
export const deviceIdOf = (username: string) => (username.startsWith(DEVICE_USERNAME_PREFIX) ? username.slice(DEVICE_USERNAME_PREFIX.length) : undefined);

export const deviceIdentity = (deviceId: string, topicRoot?: string): BrokerIdentity => ({ username: deviceUsername(deviceId), ...deviceAcl(deviceId, topicRoot) });

/** Device passwords are random 24-byte secrets, so a plain SHA-256 is a sufficient verifier. */
export const newDevicePassword = () => randomBytes(24).toString("base64url");
export const hashDevicePassword = (password: string | Buffer) => createHash("sha256").update(password).digest("base64url");
export const samePasswordHash = (password: Buffer, hash: string) => {
  const a = Buffer.from(hashDevicePassword(password));
  const b = Buffer.from(hash);
  return a.length === b.length && timingSafeEqual(a, b);
};

/**
 * Mosquitto's ACL file for a set of devices: `pattern` lines use `%u`, but our usernames
 * carry the `flex-device-` prefix, so each device gets its own `user` block.
 */
export const mosquittoAcl = ({ devices, nodeUsers, topicRoot }: { devices: string[]; nodeUsers: string[]; topicRoot?: string }) => {
  const lines: string[] = [];
  for (const user of nodeUsers) lines.push(`user ${user}`, `topic readwrite ${topicRoot ?? "flex/v1"}/#`, "");
  for (const id of devices) {
    const acl = deviceAcl(id, topicRoot);
    lines.push(`user ${deviceUsername(id)}`, ...acl.publish.map((t) => `topic write ${t}`), ...acl.subscribe.map((t) => `topic read ${t}`), "");
  }
  return lines.join("\n");
};
