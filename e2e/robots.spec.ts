import { expect, test } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

// The site runs a quiet, fast robot fleet (playwright.config.ts: SITE_RMF_EVENTS=0,
// SITE_RMF_AUTO_TASKS_SEC=0, SITE_RMF_SPEED): no robot moves unless a spec gives it a task.

test.describe("robots", () => {
  test("an operator dispatches a delivery and watches the robot carry it out on the map to completion", async ({ page }) => {
    test.setTimeout(180_000);
    await signIn(page, loginFor("operator"));
    await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Robots" }).click();
    await expect(page.getByTestId("building-map")).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole("table", { name: "Robots" }).getByRole("row")).not.toHaveCount(1, { timeout: 30_000 });

    await page.getByRole("button", { name: "Dispatch task" }).click();
    const dialog = page.getByRole("dialog", { name: "Dispatch a task" });
    await expect(dialog.getByLabel("Task", { exact: true })).toHaveValue("delivery");
    // Nothing picked: the form says what is missing, next to each field, and sends nothing.
    await dialog.getByRole("button", { name: "Dispatch" }).click();
    await expect(dialog.getByTestId("error-pickup-place")).toHaveText("Pick a place.");
    await dialog.getByLabel("Pick-up place").selectOption("supplies");
    await dialog.getByLabel("Dispenser").selectOption("coke_dispenser");
    await dialog.getByLabel("Drop-off place").selectOption("storage");
    await dialog.getByLabel("Ingestor").selectOption("coke_ingestor");
    await dialog.getByLabel("Item").fill("coke");
    await dialog.getByLabel("Quantity").fill("2");
    await dialog.getByRole("button", { name: "Dispatch" }).click();
    await expect(dialog).toHaveCount(0, { timeout: 30_000 });
    const dispatched = page.getByTestId("dispatched");
    await expect(dispatched).toBeVisible();
    const taskId = (await dispatched.getByRole("link").innerText()).trim();
    expect(taskId.length).toBeGreaterThan(0);

    // The robot that takes it shows the task in the table, and its marker moves on the map.
    const row = page.getByRole("table", { name: "Robots" }).getByRole("row").filter({ hasText: taskId });
    await expect(row).toHaveCount(1, { timeout: 30_000 });
    const robot = (await row.getAttribute("data-testid"))!.replace(/^robot-row-/, "");
    const marker = page.getByTestId(`map-robot-${robot}`);
    const start = await marker.getAttribute("transform");
    await expect.poll(async () => (await marker.count()) === 0 || (await marker.getAttribute("transform")) !== start, { timeout: 30_000 }).toBe(true);

    // It goes upstairs to drop off: on L2 it arrives and the task completes.
    await page.getByRole("group", { name: "Level" }).getByRole("button", { name: "L2" }).click();
    await expect(page.getByTestId("building-map")).toHaveAttribute("data-level", "L2");
    await expect(page.getByTestId(`map-robot-${robot}`)).toBeVisible({ timeout: 90_000 });

    await dispatched.getByRole("link").click();
    await expect(page.getByRole("heading", { level: 1 })).toContainText(taskId);
    await expect(page.getByTestId("task-status").locator(".badge")).toHaveAttribute("data-status", "completed", { timeout: 120_000 });
    await expect(page.getByTestId("task-phases").getByRole("listitem")).not.toHaveCount(0);
    await expect(page.getByTestId("task-phases").locator('[data-state="completed"]')).toHaveCount(await page.getByTestId("task-phases").getByRole("listitem").count());
    await expect(page.getByTestId("task-log")).toBeVisible();
    // RMF's "[place:pantry]" references read as names, not markup.
    await expect(page.getByTestId("task-phases").locator(".rmf-ref").first()).toBeVisible();
    await expect(page.getByTestId("task-phases")).not.toContainText("[place:");

    // The completion raised an alert, popped up with its response.
    await expect(page.getByRole("alert").filter({ hasText: "Task completed" }).filter({ hasText: taskId }).first()).toBeVisible({ timeout: 30_000 });

    await page.getByRole("link", { name: "Tasks", exact: true }).click();
    await expect(page.getByRole("table", { name: "Tasks" }).getByRole("row").filter({ hasText: taskId })).toHaveAttribute("data-status", "completed");
  });

  test("a viewer sees no dispatch button or controls, and the server refuses the dispatch", async ({ page, baseURL }) => {
    await signIn(page, loginFor("viewer"), "/robots");
    await expect(page.getByTestId("building-map")).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole("table", { name: "Robots" }).getByRole("row")).not.toHaveCount(1, { timeout: 30_000 });
    await expect(page.getByRole("button", { name: "Dispatch task" })).toHaveCount(0);
    await expect(page.getByRole("button", { name: "Open" })).toHaveCount(0);
    await page.goto("/robots/tasks");
    await expect(page.getByRole("heading", { level: 1, name: "Robot tasks" })).toBeVisible();
    await expect(page.getByTestId("tasks-count").or(page.getByText("No tasks yet"))).toBeVisible({ timeout: 30_000 });
    await expect(page.getByRole("button", { name: "Dispatch task" })).toHaveCount(0);

    const origin = new URL(baseURL!).origin;
    const refused = await page.request.post("/api/trpc/robots.tasks.dispatch", {
      headers: { origin },
      data: { json: { category: "patrol", places: ["pantry"], rounds: 1, idempotencyKey: "e2e-viewer-dispatch" } },
    });
    expect(refused.status()).toBe(403);
    expect(await refused.text()).toContain("FORBIDDEN");
  });
});
