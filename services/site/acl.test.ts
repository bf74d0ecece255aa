import { describe, expect, it } from "vitest";
import { filterCovers, mergeAccess, resolveAccess, substitute, unshare } from "./acl";
import { mosquittoAcl } from "./mosquitto-config";

describe("topic filters", () => {
  it("knows when one filter covers another", () => {
    const cases: [string, string, boolean][] = [
      ["cs/#", "cs/in/ocpp1.6/S1", true],
      ["cs/#", "cs", true],
      ["cs/#", "cs/in/+/+", true],
      ["cs/in/+/+", "cs/in/ocpp1.6/S1", true],
      ["cs/in/+/+", "cs/in/+/S1", true],
      ["cs/in/+/+", "cs/in/#", false],
      ["cs/in/+/+", "cs/in/ocpp1.6", false],
      ["cs/in/+/+", "cs/in/ocpp1.6/S1/x", false],
      ["cs/in/ocpp1.6/S1", "cs/in/+/S1", false],
      ["#", "$SYS/broker/uptime", false],
      ["+/x", "$SYS/x", false],
      ["#", "anything/at/all", true],
      ["switchyard/site/ping/request", "switchyard/site/ping/request", true],
    ];
    for (const [outer, inner, expected] of cases) expect(filterCovers(outer, inner), `${outer} ⊇ ${inner}`).toBe(expected);
  });

  it("authorizes a shared subscription by the topic behind it", () => {
    expect(unshare("$share/manager/cs/in/+/+")).toBe("cs/in/+/+");
    expect(unshare("cs/in/+/+")).toBe("cs/in/+/+");
    expect(unshare("$share/manager")).toBeUndefined();
    expect(unshare("$share/+/cs/#")).toBeUndefined();
    const access = resolveAccess({ publish: [], subscribe: ["cs/in/+/+"] }, { clientId: "m1", username: "csms-manager" });
    expect(access.canSubscribe("$share/manager/cs/in/+/+")).toBe(true);
    expect(access.canSubscribe("$share/manager/cs/#")).toBe(false);
  });

  it("binds %c and %u to the client, and never to a value that would widen the filter", () => {
    expect(substitute("cs/feed/%c", { clientId: "m1", username: "u" })).toBe("cs/feed/m1");
    expect(substitute("dev/%u/#", { clientId: "c", username: "device:7" })).toBe("dev/device:7/#");
    expect(substitute("cs/feed/%c", { clientId: "a/b", username: "u" })).toBeUndefined();
    expect(substitute("cs/feed/%c", { clientId: "#", username: "u" })).toBeUndefined();
    const access = resolveAccess({ publish: ["cs/feed/%c"], subscribe: [] }, { clientId: "m1", username: "csms-manager" });
    expect(access.canPublish("cs/feed/m1")).toBe(true);
    expect(access.canPublish("cs/feed/m2")).toBe(false);
    expect(access.canPublish("$share/g/cs/feed/m1")).toBe(false);
  });

  it("merges tables and writes them as a Mosquitto ACL, %c widened to +", () => {
    const table = mergeAccess({ console: { publish: [], subscribe: ["a/#"] } }, { console: { publish: ["b"], subscribe: ["a/#", "c/+"] }, m: { publish: ["f/%c"], subscribe: ["f/%c"] } });
    expect(table.console).toEqual({ publish: ["b"], subscribe: ["a/#", "c/+"] });
    const text = mosquittoAcl(table, { console: { username: "console", password: "x" }, m: { username: "m", password: "y" } });
    expect(text).toContain("user console\ntopic write b\ntopic read a/#\ntopic read c/+");
    expect(text).toContain("user m\ntopic readwrite f/+");
  });
});
