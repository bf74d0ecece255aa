import { expect, test } from "@playwright/test";
import type { Fleet } from "../sim/ocpp/fleet";
import { bringStations } from "./charging-stations";
import { loginFor, signIn } from "./fixtures";

// The demo fleet is idle (SITE_SIM_EVENTS=0): nothing faults unless a spec makes it.
test.describe("charging tiles", () => {
  let fleet: Fleet;
  test.beforeAll(async () => {
    fleet = await bringStations({ prefix: "FLT", count: 3 });
  });
  test.afterAll(async () => {
    await fleet?.close();
  });

  test("an operator clicks the Faulted tile and sees exactly the faulted stations; the Overview counts the same", async ({ page }) => {
    await signIn(page, loginFor("operator"), "/charging");
    const table = page.getByRole("table", { name: "Stations" });
    await expect(table.getByRole("row").filter({ hasText: "FLT00003" })).toBeVisible({ timeout: 30_000 });
    const faulted = page.getByRole("button", { name: /^Faulted/ });
    await expect(faulted.locator(".tile-value")).toHaveText("0");

    // Two of the three stations report a fault on a connector, as a station does: StatusNotification Faulted.
    await fleet.stations[0]!.fault(1, { errorCode: "GroundFailure" });
    await fleet.stations[2]!.fault(2, { errorCode: "HighTemperature" });
    await expect(faulted.locator(".tile-value")).toHaveText("2", { timeout: 15_000 });

    await faulted.click();
    await expect(page).toHaveURL(/status=Faulted/);
    await expect(faulted).toHaveAttribute("aria-pressed", "true");
    const rows = table.locator('tbody tr[data-testid^="station-row-"]');
    await expect(rows).toHaveCount(2);
    await expect(rows.nth(0)).toHaveAttribute("data-testid", "station-row-FLT00001");
    await expect(rows.nth(1)).toHaveAttribute("data-testid", "station-row-FLT00003");
    await expect(page.getByTestId("stations-count")).toHaveText(/^2 of \d+ stations shown/);

    // Another tile replaces the filter; clicking the active one clears it.
    await page.getByRole("button", { name: /^Offline/ }).click();
    await expect(page).toHaveURL(/online=false/);
    await expect(page).not.toHaveURL(/status=Faulted/);
    await page.getByRole("button", { name: /^Offline/ }).click();
    await expect(page).not.toHaveURL(/online=|status=/);

    // The fault clears: the tile follows, live.
    await fleet.stations[0]!.clearFault(1);
    await expect(faulted.locator(".tile-value")).toHaveText("1", { timeout: 15_000 });

    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Overview" }).click();
    const overviewFaulted = page.getByTestId("overview-charging-faulted");
    await expect(overviewFaulted.locator(".tile-value")).toHaveText("1", { timeout: 15_000 });
    await overviewFaulted.click();
    await expect(page).toHaveURL(/\/charging\?status=Faulted/);
    await expect(table.locator('tbody tr[data-testid^="station-row-"]')).toHaveCount(1);
    await expect(table.getByRole("row").filter({ hasText: "FLT00003" })).toBeVisible();
  });

  test("search finds stations by vendor, model or serial; a selection stays in view and a bulk action over a few asks first, listing them", async ({ page }) => {
    await signIn(page, loginFor("support"), "/charging");
    const table = page.getByRole("table", { name: "Stations" });
    await expect(table.getByRole("row").filter({ hasText: "FLT00001" })).toBeVisible({ timeout: 30_000 });
    const serial = await page.evaluate(() => document.querySelector('[data-testid="station-row-FLT00002"] td.mono.truncate')?.textContent ?? "");
    expect(serial).not.toBe("");
    await page.getByLabel("Search").fill(serial);
    await expect(table.locator('tbody tr[data-testid^="station-row-"]')).toHaveCount(1);
    await expect(table.getByRole("row").filter({ hasText: "FLT00002" })).toBeVisible();
    await page.getByLabel("Search").fill("FLT");
    await expect(table.locator('tbody tr[data-testid^="station-row-"]')).toHaveCount(3);

    await page.getByTestId("select-all").check();
    await expect(page.getByTestId("selection-bar-count")).toHaveText("3 stations selected");
    await page.getByLabel("Search").fill("FLT00001");
    // Filtered out, still selected, and said so.
    await expect(page.getByTestId("selection-bar")).toContainText("(2 hidden by the filters)");

    await page.getByTestId("select-FLT00001").uncheck();
    await page.getByLabel("Search").fill("");
    await expect(page.getByTestId("selection-bar-count")).toHaveText("2 stations selected");
    await page.getByTestId("selection-bar-clear").click();
    await expect(page.getByTestId("selection-bar")).toHaveCount(0);

    // Four stations: above the few a bulk action sends without asking.
    await page.getByLabel("Search").fill("SIM0000");
    for (const id of ["SIM00001", "SIM00002", "SIM00003", "SIM00004"]) await page.getByTestId(`select-${id}`).check();
    await page.getByTestId("bulk-action").selectOption("clearCache");
    await page.getByTestId("bulk-send").click();
    const dialog = page.getByTestId("bulk-confirm-dialog");
    await expect(dialog).toBeVisible();
    await expect(dialog.getByTestId("bulk-confirm-list").locator("li")).toHaveText(["SIM00001", "SIM00002", "SIM00003", "SIM00004"]);
    await dialog.getByTestId("bulk-confirm-send").click();
    await expect(page.getByTestId("bulk-progress")).toHaveAttribute("data-done", "4", { timeout: 30_000 });
  });
});
