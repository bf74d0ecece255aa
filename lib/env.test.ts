import { describe, expect, it } from "vitest";
import { z } from "zod";
import { parseEnv, zPort } from "./env";

describe("parseEnv", () => {
  const schema = z.object({ PORT: zPort.default(8200), BATCH: z.coerce.number().int().min(1).default(200), NAME: z.string().optional() });

  it("treats a variable set to the empty string as unset (its default), not as 0", () => {
    expect(parseEnv(schema, { PORT: "", BATCH: "", NAME: "" })).toEqual({ PORT: 8200, BATCH: 200 });
  });

  it("still parses values that are set, and refuses bad ones with the variable's name", () => {
    expect(parseEnv(schema, { PORT: "0", BATCH: "32", NAME: "n" })).toEqual({ PORT: 0, BATCH: 32, NAME: "n" });
    expect(() => parseEnv(schema, { BATCH: "0" })).toThrow(/BATCH: /);
    expect(() => parseEnv(schema, { PORT: "x" })).toThrow(/PORT: /);
  });
});
