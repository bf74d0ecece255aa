import { expect, test, type Page } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

/** Resets a simulated station from its page and follows it: Unavailable → boots again → Available. */
const resetAndWatch = async (page: Page, stationId: string, kind: "soft" | "hard") => {
  await page.goto(`/charging/${stationId}`);
  await expect(page.getByTestId("station-online")).toHaveAttribute("data-online", "true", { timeout: 30_000 });
  const connector = page.getByTestId("connector-1-1");
  await expect(connector).toHaveAttribute("data-status", "Available", { timeout: 30_000 });
  const bootedBefore = await page.getByTestId("station-booted-at").innerText();

  await page.getByTestId(`command-reset-${kind}`).click();
  if (kind === "hard") {
    // Destructive: nothing is sent until the confirmation.
    await expect(page.getByTestId("confirm-dialog-reset-hard")).toBeVisible();
    await page.getByTestId("confirm-reset-hard").click();
  }
  await expect(page.getByTestId(`command-status-reset-${kind}`)).toHaveAttribute("data-status", "accepted", { timeout: 30_000 });
  await expect(connector).toHaveAttribute("data-status", "Unavailable", { timeout: 30_000 });
  await expect(page.getByTestId("station-booted-at")).not.toHaveText(bootedBefore, { timeout: 45_000 });
  await expect(connector).toHaveAttribute("data-status", "Available", { timeout: 45_000 });
};

test.describe("charging", () => {
  test("support resets an OCPP 1.6 station (hard, confirmed) and a 2.0.1 station (soft) and watches them reboot", async ({ page }) => {
    test.setTimeout(180_000);
    await signIn(page, loginFor("support"));
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Charging" }).click();
    await expect(page.getByTestId("station-row-SIM00002")).toBeVisible({ timeout: 30_000 });
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
    await expect(page.getByTestId("command-reset-soft")).toHaveCount(0);
  });
});
