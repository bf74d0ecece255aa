import { describe, expect, it } from "vitest";
import { loadEnv } from "./env";

describe("configuration", () => {
  it("runs with no settings at all, on embedded defaults", () => {
    const e = loadEnv({ SWITCHYARD_DATA_DIR: "/nonexistent" });
    expect(e.CONSOLE_PORT).toBe(3000);
    expect(e.mqttUrl).toBe("mqtt://127.0.0.1:1884");
    expect(e.publicUrl).toBe("http://127.0.0.1:3000");
    expect(e.DATABASE_URL).toBeUndefined();
    expect(e.MONITORING_REGIONS).toEqual(["eu-north", "eu-west", "ap-southeast"]);
  });

  it("never lets the embedded broker take 1883, which a system broker may own", () => {
    expect(() => loadEnv({ MQTT_PORT: "1883" })).toThrow(/MQTT_PORT: 1883 belongs to a system broker/);
  });

  it("lists every invalid setting in one clear error", () => {
    const message = (() => {
      try {
        loadEnv({ DATABASE_URL: "mysql://x", CONSOLE_PORT: "99999", LOG_LEVEL: "loud" });
        return "";
      } catch (error) {
        return (error as Error).message;
      }
    })();
    expect(message).toMatch(/DATABASE_URL: must be postgres:\/\/… or memory:\/\//);
    expect(message).toMatch(/CONSOLE_PORT: Too big/);
    expect(message).toMatch(/LOG_LEVEL: Invalid option/);
  });

  it("requires a real secret in production", () => {
    expect(() => loadEnv({ NODE_ENV: "production", SWITCHYARD_DATA_DIR: "/nonexistent" })).toThrow(/BETTER_AUTH_SECRET/);
    expect(loadEnv({ NODE_ENV: "production", BETTER_AUTH_SECRET: "x".repeat(32) }).authSecret).toBe("x".repeat(32));
  });
});
