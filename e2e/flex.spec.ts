import { expect, test } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

// The site runs the flex market with FLEX_PERIOD_MS=30000 (playwright.config.ts): windows of
// 30 s, so a request placed for the first window offered is sealed and awarded within a
// minute, and the demo fleet (steady behaviour, fixed seed) offers into every window.

test.describe("flex market", () => {
  test("a DSO trader places a request, watches its bundle form and get awarded, and sees devices follow the activation", async ({ page }) => {
    test.setTimeout(240_000);
    await signIn(page, loginFor("trader", "dso-north"));
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Flex market" }).click();
    await expect(page.getByRole("heading", { level: 1, name: "Flex market" })).toBeVisible();
    // Traders see the market, not the operators' node tiles.
    await expect(page.getByTestId("flex-nodes")).toHaveCount(0);
    await expect(page.getByTestId("flex-depth-chart")).toHaveAttribute("data-levels", /[1-9]/, { timeout: 60_000 });

    // Place a request in the browser, keyboard first: the form opens on its first field.
    await page.getByTestId("flex-tab-requests").click();
    await expect(page.getByRole("heading", { level: 1, name: "My requests" })).toBeVisible();
    await page.getByRole("button", { name: "New request" }).click();
    const dialog = page.getByRole("dialog", { name: "New flexibility request" });
    await expect(dialog).toBeVisible();
    await expect(dialog.getByLabel("Participant")).toHaveValue("dso-north");
    // A bad quantity is said next to the field, and nothing is sent.
    await dialog.getByLabel("Quantity (kW)").fill("-3");
    await dialog.getByLabel("Maximum price (€/MWh)").fill("1000");
    await dialog.getByRole("button", { name: "Place request" }).click();
    await expect(dialog.getByTestId("error-quantityW")).toContainText(/at least/i);
    await dialog.getByLabel("Grid node").selectOption("gn-north-1");
    await dialog.getByLabel("Direction").selectOption("up");
    await dialog.getByLabel("Quantity (kW)").fill("4");
    await dialog.getByLabel("Quantity (kW)").press("Enter");
    await expect(dialog).toHaveCount(0);
    const notice = page.getByTestId("flex-notice");
    await expect(notice).toContainText(/Request req-[0-9a-f]+ placed/);
    const requestId = /(req-[0-9a-f]+)/.exec(await notice.innerText())![1]!;
    const row = page.getByTestId(`flex-request-${requestId}`);
    await expect(row).toHaveAttribute("data-status", "active");

    // Revise it: a new revision, and both are listed.
    await page.getByTestId(`flex-revise-${requestId}`).click();
    const revise = page.getByRole("dialog", { name: `Revise ${requestId}` });
    await revise.getByLabel("Quantity (kW)").fill("5");
    await revise.getByRole("button", { name: "Save revision" }).click();
    await expect(revise).toHaveCount(0);
    await expect(row).toHaveAttribute("data-revision", "2");
    await row.click();
    await expect(page.getByTestId("flex-revision-2")).toBeVisible();
    await expect(page.getByTestId("flex-revision-1")).toBeVisible();

    // The bundle for its grid node forms every round and takes the request, then is sealed and awarded.
    await page.getByTestId("flex-tab-market").click();
    await page.getByLabel("Grid node").selectOption("gn-north-1");
    const bundle = page.locator('[data-testid^="flex-bundle-gn-north-1-up-"][data-allocations="1"]').first();
    await expect(bundle).toBeVisible({ timeout: 90_000 });
    await expect(page.getByTestId("flex-bundle-chart")).toBeVisible();
    await expect(page.getByTestId(`flex-trade-${requestId}`)).toBeVisible({ timeout: 90_000 });
    await expect(page.locator('[data-testid^="flex-bundle-gn-north-1-up-"][data-status="matched"]').first()).toBeVisible();

    // Activate the award and watch the devices follow: acked steps, delivered power measured.
    await page.getByTestId("flex-tab-activations").click();
    await page.getByTestId(`flex-activate-${requestId}`).click();
    const signal = page.getByRole("dialog", { name: `Activate ${requestId}` });
    await expect(signal.getByLabel("Level (kW)")).toHaveValue("5");
    await signal.getByRole("button", { name: "Send signal" }).click();
    await expect(signal).toHaveCount(0);
    await expect(page.getByTestId("flex-notice")).toContainText(`Activation of ${requestId} sent`);
    await expect(page.getByTestId(`flex-activation-trade-${requestId}`)).toHaveAttribute("data-status", "activating", { timeout: 30_000 });
    await expect(page.locator('[data-testid="flex-step"][data-closed="true"]').first()).toBeVisible({ timeout: 30_000 });
    await expect(page.getByTestId("flex-step-summary")).toHaveAttribute("data-acked", /[1-9]/, { timeout: 30_000 });
    await expect(page.getByTestId("flex-step-summary")).toHaveAttribute("data-delivered", /[1-9]/, { timeout: 30_000 });
    await expect(page.getByTestId("flex-step-chart")).toBeVisible();
  });

  test("a viewer reads the market and every node's health, with no trading controls", async ({ page }) => {
    await signIn(page, loginFor("viewer"), "/flex");
    await expect(page.getByTestId("flex-node-flex-dso-north")).toContainText(/\d+ \/ \d+/, { timeout: 30_000 });
    await expect(page.getByTestId("flex-node-flex-tso")).toBeVisible();
    await page.getByTestId("flex-tab-requests").click();
    await expect(page.getByRole("heading", { level: 1, name: "Requests" })).toBeVisible();
    await expect(page.getByRole("button", { name: "New request" })).toHaveCount(0);
  });

  test("an operator brings a charge station into the market as an EV charger, and takes it out again", async ({ page }) => {
    await signIn(page, loginFor("operator"), "/flex/ev-chargers");
    await expect(page.getByRole("heading", { level: 1, name: "EV chargers in the market" })).toBeVisible();
    await page.getByRole("button", { name: "Bridge a station" }).click();
    const dialog = page.getByRole("dialog", { name: "Bring a charge station into the market" });
    await dialog.getByLabel("Station id", { exact: true }).fill("SIM00001");
    await dialog.getByLabel("Flex node").selectOption("flex-dso-north");
    await dialog.getByLabel("Grid node").selectOption("gn-north-2");
    await dialog.getByRole("button", { name: "Start bridge" }).click();
    await expect(dialog).toHaveCount(0);
    await expect(page.getByTestId("flex-notice")).toContainText("Station SIM00001 is in the market as ev-SIM00001.");
    const row = page.getByRole("table", { name: "Bridged stations" }).getByRole("row").filter({ hasText: "SIM00001" });
    await expect(row).toContainText("online");
    // An unknown station is refused in words, next to its field.
    await page.getByRole("button", { name: "Bridge a station" }).click();
    await dialog.getByLabel("Station id", { exact: true }).fill("NOPE00001");
    await dialog.getByRole("button", { name: "Start bridge" }).click();
    await expect(dialog.getByTestId("form-error")).toContainText("does not exist");
    await dialog.getByRole("button", { name: "Cancel" }).click();
    await page.getByTestId("flex-bridge-stop-SIM00001").click();
    await page.getByRole("dialog", { name: "Stop bridging SIM00001?" }).getByRole("button", { name: "Stop bridge" }).click();
    await expect(page.getByTestId("flex-notice")).toContainText("Station SIM00001 left the market.");
    await expect(page.getByTestId("flex-bridges-empty").or(page.getByText("No station is bridged"))).toBeVisible();
  });
});
