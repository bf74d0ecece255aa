import { expect, test } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

// SIM00001 speaks OCPP 2.0.1 (the demo fleet interleaves versions; see e2e/charging.spec.ts).
test.describe("charging command outcomes", () => {
  test("a support user's rejected command shows the station's reason, in words and as fields", async ({ page }) => {
    await signIn(page, loginFor("support"), "/charging/SIM00001");
    await expect(page.getByTestId("station-online")).toHaveAttribute("data-online", "true", { timeout: 30_000 });

    await page.getByRole("button", { name: "Set variables" }).click();
    const dialog = page.getByRole("dialog", { name: "Set variables" });
    // Validated before anything is sent.
    await dialog.getByRole("button", { name: "Send set variables" }).click();
    await expect(dialog.getByTestId("error-component")).toHaveText("Component is required.");

    await dialog.getByLabel("Component", { exact: true }).fill("OCPPCommCtrlr");
    await dialog.getByLabel("Variable", { exact: true }).fill("HeartbeatInterval");
    await dialog.getByLabel("Value", { exact: true }).fill("often");
    await dialog.getByLabel("Value", { exact: true }).press("Enter");
    await expect(dialog).toHaveCount(0);

    const outcome = page.getByTestId("command-status-change-configuration");
    await expect(outcome).toHaveAttribute("data-status", "rejected", { timeout: 30_000 });
    await expect(outcome).toContainText("Rejected by the station: InvalidValue (not a non-negative integer)");
    const answer = page.getByTestId("last-answer");
    await expect(answer.getByTestId("result-fields-Reason")).toContainText("InvalidValue");
    await expect(answer).not.toContainText("{");

    // The Commands page says the same, and its details are fields, not JSON.
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Commands" }).click();
    const row = page.getByRole("row").filter({ hasText: "SIM00001" }).filter({ hasText: "changeConfiguration" }).first();
    await expect(row).toContainText("Rejected by the station: InvalidValue");
    await row.getByRole("button", { name: "Details" }).click();
    const details = page.getByTestId("command-details-dialog");
    await expect(details.getByTestId("command-details-outcome")).toHaveText("Rejected by the station: InvalidValue (not a non-negative integer)");
    await expect(details.getByTestId("command-params-Variable")).toContainText("HeartbeatInterval");
  });

  test("an accepted Get configuration for chosen keys shows the keys the station returned", async ({ page }) => {
    await signIn(page, loginFor("support"), "/charging/SIM00002");
    await expect(page.getByTestId("station-online")).toHaveAttribute("data-online", "true", { timeout: 30_000 });
    await page.getByRole("button", { name: "Get configuration" }).click();
    const dialog = page.getByRole("dialog", { name: "Get configuration" });
    await dialog.getByTestId("param-keys").selectOption(["HeartbeatInterval", "MeterValueSampleInterval"]);
    await dialog.getByRole("button", { name: "Send get configuration" }).click();
    const outcome = page.getByTestId("command-status-get-configuration");
    await expect(outcome).toHaveAttribute("data-status", "accepted", { timeout: 30_000 });
    const table = page.getByTestId("last-answer").getByRole("table");
    await expect(table.getByRole("row")).toHaveCount(3);
    await expect(table).toContainText("HeartbeatInterval");
    await expect(table).toContainText("MeterValueSampleInterval");
  });
});
