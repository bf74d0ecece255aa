import { describe, expect, it } from "vitest";
import { loadEnv } from "../env";
import { clientAddress, normalizeAddress, parseTrustedProxies } from "./client-address";
import { PEER_HEADER } from "./socket-peer";

const none = parseTrustedProxies([]);
const proxies = parseTrustedProxies(["10.0.0.0/8", "192.0.2.1", "fd00::/8"]);
const req = (peer: string | null, forwardedFor?: string) =>
  new Headers({ ...(peer ? { [PEER_HEADER]: peer } : {}), ...(forwardedFor ? { "x-forwarded-for": forwardedFor } : {}) });

describe("the client's address", () => {
  it("is the socket peer, whatever X-Forwarded-For says, when no proxy is trusted (the default)", () => {
    expect(clientAddress(req("203.0.113.7"), none)).toBe("203.0.113.7");
    expect(clientAddress(req("203.0.113.7", "6.6.6.6"), none)).toBe("203.0.113.7");
    expect(clientAddress(req("10.0.0.1", "6.6.6.6"), none)).toBe("10.0.0.1");
  });

  it("is the socket peer when the peer is not a trusted proxy", () => {
    expect(clientAddress(req("203.0.113.7", "6.6.6.6"), proxies)).toBe("203.0.113.7");
  });

  it("walks X-Forwarded-For from the right through trusted proxies to the first untrusted hop", () => {
    expect(clientAddress(req("10.1.1.1", "198.51.100.2"), proxies)).toBe("198.51.100.2");
    // The client prepended 6.6.6.6 itself; two proxies appended the rest.
    expect(clientAddress(req("10.1.1.1", "6.6.6.6, 198.51.100.2, 192.0.2.1"), proxies)).toBe("198.51.100.2");
    expect(clientAddress(req("fd00::5", "2001:db8::9"), proxies)).toBe("2001:db8::9");
  });

  it("stops at a hop that is not an address, and falls back to the proxy when nothing was forwarded", () => {
    expect(clientAddress(req("10.1.1.1", "garbage, 192.0.2.1"), proxies)).toBe("192.0.2.1");
    expect(clientAddress(req("10.1.1.1"), proxies)).toBe("10.1.1.1");
  });

  it("reads an IPv4 client on a dual-stack socket as IPv4, and refuses what is not an address", () => {
    expect(normalizeAddress("::ffff:127.0.0.1")).toBe("127.0.0.1");
    expect(clientAddress(req("::ffff:10.2.2.2", "198.51.100.3"), proxies)).toBe("198.51.100.3");
    expect(normalizeAddress("2001:DB8::1")).toBe("2001:db8::1");
    expect(normalizeAddress("localhost")).toBeNull();
  });

  it("is unknown for a request that did not come through this process's socket", () => {
    expect(clientAddress(req(null, "6.6.6.6"), proxies)).toBeNull();
  });

  it("takes TRUSTED_PROXIES as a comma-separated list of addresses and CIDR ranges, and names bad entries", () => {
    expect(loadEnv({ TRUSTED_PROXIES: "10.0.0.0/8, 192.0.2.1,fd00::/8" }).TRUSTED_PROXIES).toEqual(["10.0.0.0/8", "192.0.2.1", "fd00::/8"]);
    expect(loadEnv({}).TRUSTED_PROXIES).toEqual([]);
    expect(() => loadEnv({ TRUSTED_PROXIES: "10.0.0.0/33, proxy.internal, 192.0.2.1" })).toThrow(
      /TRUSTED_PROXIES: not an IP address or CIDR range: 10\.0\.0\.0\/33, proxy\.internal/,
    );
    expect(() => loadEnv({ MAX_REQUEST_BODY_BYTES: "10" })).toThrow(/MAX_REQUEST_BODY_BYTES/);
  });
});
