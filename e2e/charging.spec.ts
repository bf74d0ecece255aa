import { expect, test, type Page } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

// The site runs with SITE_SIM_SEED and SITE_SIM_EVENTS=0 (playwright.config.ts): no car is
// ever plugged in unless a spec does it, so every connector starts Available.

/** Resets a simulated station from its page and follows it: Unavailable → boots again → Available. */
const resetAndWatch = async (page: Page, stationId: string, kind: "soft" | "hard") => {
  await page.goto(`/charging/${stationId}`);
  await expect(page.getByTestId("station-online")).toHaveAttribute("data-online", "true", { timeout: 30_000 });
  const connector = page.getByTestId("connector-1-1");
  await expect(connector).toHaveAttribute("data-status", "Available", { timeout: 30_000 });
  const bootedBefore = await page.getByTestId("station-booted-at").innerText();

  await page.getByRole("button", { name: `Reset (${kind})` }).click();
  if (kind === "hard") {
    // Destructive: nothing is sent until the confirmation.
    const dialog = page.getByRole("dialog", { name: "Reset (hard)?" });
    await expect(dialog).toBeVisible();
    await dialog.getByRole("button", { name: "Hard reset" }).click();
    await expect(dialog).toHaveCount(0);
  }
  const outcome = page.getByTestId(`command-status-reset-${kind}`);
  await expect(outcome).toHaveAttribute("data-status", "accepted", { timeout: 30_000 });
  await expect(outcome).toContainText("Accepted");
  await expect(connector).toHaveAttribute("data-status", "Unavailable", { timeout: 30_000 });
  await expect(page.getByTestId("station-booted-at")).not.toHaveText(bootedBefore, { timeout: 45_000 });
  await expect(connector).toHaveAttribute("data-status", "Available", { timeout: 45_000 });
};

test.describe("charging", () => {
  test("support resets an OCPP 1.6 station (hard, confirmed) and a 2.0.1 station (soft) and watches them reboot", async ({ page }) => {
    test.setTimeout(180_000);
    await signIn(page, loginFor("support"));
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Charging" }).click();
    await expect(page.getByRole("table", { name: "Stations" }).getByRole("row").filter({ hasText: "SIM00002" })).toBeVisible({ timeout: 30_000 });
    await resetAndWatch(page, "SIM00002", "hard");
    await resetAndWatch(page, "SIM00001", "soft");
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Commands" }).click();
    await expect(page.getByRole("row").filter({ hasText: "SIM00002" }).filter({ hasText: "reset" }).first()).toContainText(/accepted/i);
  });

  test("operators see charging read-only: no command buttons", async ({ page }) => {
    await signIn(page, loginFor("operator"));
    await page.goto("/charging/SIM00003");
    await expect(page.getByTestId("station-online")).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId("read-only-note")).toBeVisible();
    await expect(page.getByRole("button", { name: "Reset (soft)" })).toHaveCount(0);
  });

  test("the stations view keeps its filters and sort in the URL, and a KPI tile applies a filter", async ({ page }) => {
    await signIn(page, loginFor("viewer"), "/charging?sort=-id");
    const table = page.getByRole("table", { name: "Stations" });
    await expect(table.getByRole("row").nth(1)).toContainText("SIM00012", { timeout: 30_000 });
    await expect(table.getByRole("columnheader", { name: /station/i })).toHaveAttribute("aria-sort", "descending");

    await page.getByLabel("Search").fill("SIM0000");
    await expect(page).toHaveURL(/q=SIM0000/);
    // Other specs may have brought stations of their own (e2e/charging-stations.ts); the demo fleet is SIM00001…SIM00012.
    await expect(page.getByTestId("stations-count")).toHaveText(/^9 of \d+ stations shown/);
    await page.reload();
    await expect(page.getByLabel("Search")).toHaveValue("SIM0000");
    await expect(table.getByRole("row").nth(1)).toContainText("SIM00009");

    await page.getByRole("button", { name: /^Offline/ }).click();
    await expect(page).toHaveURL(/online=false/);
    await expect(page.getByRole("button", { name: /^Offline/ })).toHaveAttribute("aria-pressed", "true");
    await expect(page.getByText("No station matches these filters")).toBeVisible();
    await page.getByRole("button", { name: "Clear filters" }).click();
    await expect(page).not.toHaveURL(/online=|q=/);
    await expect(page.getByTestId("stations-count")).toHaveText(/^(\d+) of \1 stations shown/);

    // A row that leads somewhere is reachable by keyboard.
    await table.getByRole("row").filter({ hasText: "SIM00004" }).focus();
    await page.keyboard.press("Enter");
    await expect(page).toHaveURL(/\/charging\/SIM00004$/);
  });
});
