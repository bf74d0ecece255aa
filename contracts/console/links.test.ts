import { describe, expect, it } from "vitest";
import { isDomainLink } from "./links";

describe("isDomainLink", () => {
  it("takes the domain's own link and each of its per-node links", () => {
    expect(isDomainLink("charging", "charging")).toBe(true);
    expect(isDomainLink("flex:flex-tso", "flex")).toBe(true);
    expect(isDomainLink("flex:flex-dso-north", "flex")).toBe(true);
  });
  it("does not take another domain's link that merely starts with the same letters", () => {
    expect(isDomainLink("flexible", "flex")).toBe(false);
    expect(isDomainLink("mqtt", "flex")).toBe(false);
  });
});
