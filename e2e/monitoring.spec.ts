import { expect, test, type Locator, type Page } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

// The site runs the monitoring simulator without random faults and with one scripted fault
// (playwright.config.ts): a while after start, pack 1 of the first solar site of every
// region reports cell 3 at 2.62 V, which raises a critical cell_voltage alarm. Nothing else
// raises alarms on solar sites, so the spec waits for exactly that one.

const DEVICE = "PMS-EN-01";
const PACK = "EN01-P1";
const cellAlarm = (scope: Page | Locator) => scope.locator(`[data-testid^="alarm-row-"][data-type="cell_voltage"][data-device="${DEVICE}"]`);

test.describe("monitoring", () => {
  test("an operator zooms into a pack's cell voltages and acknowledges the alarm a simulated fault raised", async ({ page }) => {
    test.setTimeout(240_000);
    await signIn(page, loginFor("operator"));
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Monitoring" }).click();
    const north = page.getByRole("table", { name: "Sites in eu-north" });
    await north.getByRole("link", { name: "eu-north BTS 1" }).click();
    await expect(page.getByTestId("site-title")).toHaveText("eu-north BTS 1");
    await page.getByRole("table", { name: "Devices" }).getByRole("link", { name: DEVICE }).click();
    await expect(page.getByTestId("device-title")).toHaveText(DEVICE, { timeout: 30_000 });

    // The fault arrives live: the device's alarm table shows it without a reload.
    await expect(cellAlarm(page)).toBeVisible({ timeout: 150_000 });
    await expect(cellAlarm(page)).toContainText("Critical");
    await expect(cellAlarm(page)).toContainText(`pack ${PACK}: cell 3 at 2.62 V`);

    // The pack's 14 cell voltages are the default chart; over 15 minutes there are points of two minutes at least.
    await expect(page.getByLabel("Metric", { exact: true })).toHaveValue(`cells:${PACK}`);
    await page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "15 min" }).click();
    await expect(page).toHaveURL(/range=15m/);
    const chart = page.getByTestId("metric-chart");
    await expect(async () => {
      expect(Number(await chart.getAttribute("data-points"))).toBeGreaterThanOrEqual(2 * 14);
    }).toPass({ timeout: 150_000 });
    await expect(page.getByTestId("stat-pack.EN01-P1.cell.3.volts")).toHaveAttribute("data-min", /^2\.6/);

    // Drag across the chart: the window becomes the dragged span (a custom range in the URL).
    const box = (await chart.boundingBox())!;
    const y = box.y + box.height * 0.4;
    await page.mouse.move(box.x + 80, y);
    await page.mouse.down();
    await page.mouse.move(box.x + box.width * 0.5, y, { steps: 8 });
    await page.mouse.move(box.x + box.width - 20, y, { steps: 8 });
    await page.mouse.up();
    await expect(page).toHaveURL(/range=custom/);
    const url = new URL(page.url());
    const from = Number(url.searchParams.get("from"));
    const to = Number(url.searchParams.get("to"));
    expect(to - from).toBeGreaterThanOrEqual(60_000);
    expect(to - from).toBeLessThan(15 * 60_000);
    await expect(page.getByTestId("time-range-label")).not.toContainText("Last");
    await expect(page.getByRole("group", { name: "Time range" }).getByRole("button", { name: "Custom…" })).toHaveAttribute("aria-pressed", "true");
    await expect(chart).toBeVisible();
    await expect(page.getByTestId("stat-pack.EN01-P1.cell.3.volts")).toBeVisible();
    // And back out, by keyboard.
    await page.getByRole("button", { name: "Zoom out" }).press("Enter");
    await expect.poll(() => {
      const u = new URL(page.url());
      return Number(u.searchParams.get("to")) - Number(u.searchParams.get("from"));
    }).toBeGreaterThan(to - from);

    // Acknowledge with a comment, from the alarm list.
    await page.getByRole("navigation", { name: "Monitoring" }).getByRole("link", { name: "Alarms" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Alarms" })).toBeVisible();
    // The device page has the same alarm in its own table: look in the list's.
    const row = cellAlarm(page.getByTestId("alarms-table"));
    await expect(row).toBeVisible({ timeout: 30_000 });
    await row.getByRole("button", { name: "Acknowledge" }).click();
    const dialog = page.getByRole("dialog", { name: "Acknowledge alarm" });
    await expect(dialog).toBeVisible();
    await dialog.getByLabel("Comment (optional)").fill("Replacing cell 3 on Monday");
    await dialog.getByRole("button", { name: "Acknowledge" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(row.locator('[data-testid^="alarm-ack-status-"]')).toHaveAttribute("data-status", "accepted", { timeout: 30_000 });
    await expect(row).toHaveAttribute("data-status", "active_ack", { timeout: 30_000 });
    await expect(row).toContainText("Acknowledged by operator@switchyard.local: “Replacing cell 3 on Monday”");
    await expect(row.getByRole("button", { name: "Acknowledge" })).toBeDisabled();

    // It went through the command path.
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Commands" }).click();
    await expect(page.getByRole("row").filter({ hasText: "alarm.acknowledge" }).first()).toContainText(/accepted/i);
  });

  test("a user limited to one region cannot see another region's sites, in the list or by direct URL", async ({ page }) => {
    await signIn(page, loginFor("viewer"), "/monitoring");
    await expect(page.getByRole("table", { name: "Sites in eu-north" }).getByRole("link", { name: "eu-north BTS 1" })).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId("region-eu-north")).toBeVisible();
    await expect(page.getByTestId("region-eu-west")).toHaveCount(0);
    await expect(page.getByTestId("region-ap-southeast")).toHaveCount(0);
    await expect(page.getByRole("main")).not.toContainText("eu-west");

    await page.goto("/monitoring/sites/eu-west/eu-west-solar-1");
    await expect(page.getByTestId("site-error")).toHaveText("There is no site eu-west-solar-1 in eu-west among the regions you may see.");
    await expect(page.getByTestId("site-kpis")).toHaveCount(0);
    await page.goto("/monitoring/devices/eu-west/PMS-EW-01");
    await expect(page.getByTestId("device-error")).toContainText("There is no device PMS-EW-01 in eu-west");
    // Naming a region of theirs does not reach another region's site either.
    await page.goto("/monitoring/sites/eu-north/eu-west-solar-1");
    await expect(page.getByTestId("site-error")).toBeVisible();

    await page.goto("/monitoring/alarms?status=all&region=eu-west");
    await expect(page.getByTestId("alarms-table-empty")).toBeVisible({ timeout: 30_000 });
    // Viewers read, they do not act.
    await page.goto("/monitoring/alarms?status=all");
    await expect(page.getByRole("table", { name: "Alarms" })).toBeVisible();
    await expect(page.getByRole("button", { name: "Acknowledge" })).toHaveCount(0);
  });
});
