import "server-only";
import { BlockList, isIP } from "node:net";
import { env } from "../env";
import { PEER_HEADER } from "./socket-peer";

/** The set of reverse proxies whose X-Forwarded-For is believed (`TRUSTED_PROXIES`). */
export type TrustedProxies = { list: BlockList; empty: boolean };

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is `10.0.0.1`; anything else is kept, lower-cased. */
export const normalizeAddress = (value: string | null | undefined): string | null => {
  const trimmed = value?.trim().toLowerCase();
  if (!trimmed) return null;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(trimmed);
  const address = mapped ? mapped[1] : trimmed;
  return isIP(address) ? address : null;
};

const familyOf = (address: string) => (isIP(address) === 6 ? "ipv6" : "ipv4");

/** Entries were validated by server/env.ts: an address or `address/prefix`. */
export const parseTrustedProxies = (entries: readonly string[]): TrustedProxies => {
  const list = new BlockList();
  for (const entry of entries) {
    const [raw, prefix] = entry.split("/");
    const address = normalizeAddress(raw);
    if (!address) throw new Error(`TRUSTED_PROXIES: not an IP address or CIDR range: ${entry}`);
    if (prefix === undefined) list.addAddress(address, familyOf(address));
    else list.addSubnet(address, Number(prefix), familyOf(address));
  }
  return { list, empty: entries.length === 0 };
};

const isTrusted = (proxies: TrustedProxies, address: string) => !proxies.empty && proxies.list.check(address, familyOf(address));

const g = globalThis as unknown as { __switchyardTrustedProxies?: TrustedProxies };
const configuredProxies = () => (g.__switchyardTrustedProxies ??= parseTrustedProxies(env().TRUSTED_PROXIES));

/**
 * The address of the client a request came from. It is the socket peer (stamped on the
 * request by `recordSocketPeers`, which a client cannot forge) unless that peer is a
 * trusted proxy; then X-Forwarded-For is walked from the right, each hop a trusted proxy
 * appended, until the first hop that is not a trusted proxy: that is the client. Whatever
 * a client wrote into X-Forwarded-For itself sits left of that hop and is never read.
 * Null when the request did not arrive over a socket this process saw (direct calls).
 */
export const clientAddress = (headers: Headers, proxies: TrustedProxies = configuredProxies()): string | null => {
  const peer = normalizeAddress(headers.get(PEER_HEADER));
  if (!peer || !isTrusted(proxies, peer)) return peer;
  const hops = (headers.get("x-forwarded-for") ?? "").split(",").map((h) => h.trim()).filter(Boolean);
  let client = peer;
  for (const hop of hops.reverse()) {
    const address = normalizeAddress(hop);
    // A trusted proxy never appends garbage: the chain of believable hops ends here.
    if (!address) return client;
    client = address;
    if (!isTrusted(proxies, address)) return client;
  }
  return client;
};
