import { describe, expect, it } from "vitest";
import { createMembership, ownerOf, ZMemberMessage } from "./ownership";

describe("rendezvous ownership", () => {
  const ids = Array.from({ length: 3000 }, (_, i) => `ST${i}`);

  it("gives every station exactly one owner among the members, the same whatever their order", () => {
    for (const id of ids.slice(0, 200)) expect(ownerOf(id, ["a", "b", "c"])).toBe(ownerOf(id, ["c", "a", "b"]));
    expect(ownerOf("ST1", [])).toBeUndefined();
    expect(ownerOf("ST1", ["solo"])).toBe("solo");
  });

  it("spreads stations about evenly", () => {
    const counts = new Map<string, number>();
    for (const id of ids) counts.set(ownerOf(id, ["m1", "m2"])!, (counts.get(ownerOf(id, ["m1", "m2"])!) ?? 0) + 1);
    for (const n of counts.values()) expect(n).toBeGreaterThan(ids.length * 0.4);
  });

  it("moves only the newcomer's share when a member joins, and only the leaver's when one goes", () => {
    const before = new Map(ids.map((id) => [id, ownerOf(id, ["m1", "m2"])]));
    const after = new Map(ids.map((id) => [id, ownerOf(id, ["m1", "m2", "m3"])]));
    for (const id of ids) if (after.get(id) !== before.get(id)) expect(after.get(id)).toBe("m3");
    const moved = ids.filter((id) => after.get(id) === "m3").length;
    expect(moved).toBeGreaterThan(ids.length * 0.25);
    expect(moved).toBeLessThan(ids.length * 0.42);
    // m3 leaves again: everything is back where it was.
    for (const id of ids) expect(ownerOf(id, ["m1", "m2"])).toBe(before.get(id));
  });
});

describe("membership", () => {
  it("counts itself, adds a peer once, drops it on member-gone or after silence", () => {
    const m = createMembership("me", 3000);
    expect(m.members()).toEqual(["me"]);
    expect(m.heard("me", 0)).toBe(false);
    expect(m.heard("b", 0)).toBe(true);
    expect(m.heard("b", 1000)).toBe(false);
    expect(m.heard("a", 1000)).toBe(true);
    expect(m.members()).toEqual(["a", "b", "me"]);
    expect(m.expire(3500)).toEqual([]);
    expect(m.expire(4000)).toEqual(["b", "a"]);
    expect(m.members()).toEqual(["me"]);
    m.heard("c", 5000);
    expect(m.gone("c")).toBe(true);
    expect(m.gone("c")).toBe(false);
    expect(m.gone("me")).toBe(false);
    expect(m.members()).toEqual(["me"]);
  });

  it("accepts only well-formed member messages", () => {
    expect(ZMemberMessage.safeParse({ t: "member", d: { id: "abc" } }).success).toBe(true);
    expect(ZMemberMessage.safeParse({ t: "member-gone", d: { id: "abc" } }).success).toBe(true);
    expect(ZMemberMessage.safeParse({ t: "member", d: { id: "much-too-long" } }).success).toBe(false);
    expect(ZMemberMessage.safeParse({ t: "member", d: { id: "a/b" } }).success).toBe(false);
    expect(ZMemberMessage.safeParse({ t: "member", d: { id: "abc", extra: 1 } }).success).toBe(false);
  });
});
