import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { persistentPasswords } from "./fleet";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "sim-passwords-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("demo station passwords", () => {
  it("are random per station, kept in the data dir (0600) and the same after a restart", async () => {
    const file = path.join(dir, "csms-station-passwords.json");
    const first = persistentPasswords(file);
    const a = first("SIM00001");
    const b = first("SIM00002");
    expect(a).not.toBe(b);
    expect(a.length).toBeGreaterThanOrEqual(20);
    expect(a).not.toContain("SIM00001");
    await Promise.resolve(); // the batched write runs in a microtask
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const again = persistentPasswords(file);
    expect(again("SIM00001")).toBe(a);
    expect(again("SIM00002")).toBe(b);
    // Another data dir: other passwords, so they cannot be derived from the id.
    expect(persistentPasswords(path.join(dir, "other.json"))("SIM00001")).not.toBe(a);
  });
});
