import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { defineConfig, devices } from "@playwright/test";

// The suite runs against exactly what `npm start` serves, in a throwaway data directory
// on a free port. Workers inherit these variables from the main process.
if (!process.env.E2E_PORT) {
  const script = "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})";
  process.env.E2E_PORT = execFileSync(process.execPath, ["-e", script]).toString().trim();
}
process.env.E2E_DATA_DIR ??= fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-e2e-"));
// The charging specs bring their own stations to the site's gateway (e2e/charging-stations.ts).
const pickPort = () => execFileSync(process.execPath, ["-e", "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"]).toString().trim();
process.env.E2E_CSMS_MANAGER_PORT ??= pickPort();
process.env.E2E_CSMS_GATEWAY_PORT ??= pickPort();
const port = Number(process.env.E2E_PORT);
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: "e2e",
  timeout: 60_000,
  expect: { timeout: 15_000 },
  fullyParallel: false,
  workers: 1,
  // No retries: a spec that needs luck is a bug to fix, not to hide.
  retries: 0,
  reporter: [["list"], ["html", { open: "never" }]],
  use: {
    baseURL,
    trace: "retain-on-failure",
    screenshot: "only-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
    },
  },
  projects: [
    { name: "desktop", use: { ...devices["Desktop Chrome"], channel: undefined }, testIgnore: /narrow\.spec\.ts/ },
    { name: "narrow", use: { ...devices["Pixel 7"], channel: undefined }, testMatch: /narrow\.spec\.ts/ },
  ],
  webServer: {
    command: "npx tsx scripts/start.ts",
    url: `${baseURL}/api/health`,
    timeout: 900_000,
    reuseExistingServer: false,
    stdout: "pipe",
    stderr: "pipe",
    gracefulShutdown: { signal: "SIGTERM", timeout: 5000 },
    env: {
      SWITCHYARD_DATA_DIR: process.env.E2E_DATA_DIR,
      CONSOLE_PORT: String(port),
      MQTT_PORT: "0",
      SITE_PORT: "0",
      CSMS_MANAGER_PORT: process.env.E2E_CSMS_MANAGER_PORT,
      CSMS_GATEWAY_PORT: process.env.E2E_CSMS_GATEWAY_PORT,
      RMF_MAIN_PORT: "0",
      RMF_PROXY_PORT: "0",
      SITE_FLEX_TSO_PORT: "0",
      SITE_FLEX_DSO_PORT: "0",
      MONITORING_PORT: "0",
      // Flex windows of 30 s, so a request is sealed and awarded within a spec (e2e/flex.spec.ts).
      FLEX_PERIOD_MS: "30000",
      SITE_SIM_STATIONS: "12",
      // A fixed fleet: the same stations every run and no random plug-ins, so specs never depend on luck.
      SITE_SIM_SEED: "1",
      SITE_SIM_EVENTS: "0",
      // Monitoring: no random faults; one known low cell a while after start (e2e/monitoring.spec.ts).
      SITE_SIM_MONITORING_FAULTS: "off",
      SITE_SIM_MONITORING_SCRIPTED_FAULT_MS: "45000",
      // A quiet robot fleet that moves only for the tasks a spec dispatches, fast enough to watch a delivery finish.
      SITE_RMF_EVENTS: "0",
      SITE_RMF_AUTO_TASKS_SEC: "0",
      SITE_RMF_SPEED: "5",
      // Throttled stays throttled for the length of a spec, however slow the machine (e2e/sign-in-hardening.spec.ts).
      LOGIN_FIRST_DELAY_SECONDS: "300",
      LOG_LEVEL: "warn",
    },
  },
});
