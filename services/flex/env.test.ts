import { describe, expect, it } from "vitest";
import { parseEnv } from "../../lib/env";
import { flexNodeEnvSchema } from "./env";

describe("flex node settings", () => {
  it("an empty value takes the default (it used to read as 0: FLEX_ACTIVATION_QOS= was QoS 0 by accident, FLEX_SIGN_BATCH= an error)", () => {
    const blank = parseEnv(flexNodeEnvSchema, { FLEX_SIGN_BATCH: "", FLEX_ACTIVATION_QOS: "", FLEX_SEND_CHUNK: "", FLEX_PORT: "" });
    const unset = parseEnv(flexNodeEnvSchema, {});
    expect(blank).toEqual(unset);
  });

  it("refuses what is set and wrong, naming the variable", () => {
    expect(() => parseEnv(flexNodeEnvSchema, { FLEX_ACTIVATION_QOS: "2" })).toThrow(/FLEX_ACTIVATION_QOS: must be 0 or 1/);
    expect(() => parseEnv(flexNodeEnvSchema, { FLEX_SIGN_BATCH: "0" })).toThrow(/FLEX_SIGN_BATCH: /);
    expect(parseEnv(flexNodeEnvSchema, { FLEX_ACTIVATION_QOS: "1" }).FLEX_ACTIVATION_QOS).toBe(1);
  });
});
