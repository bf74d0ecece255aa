import { expect, test, type Page } from "@playwright/test";
import { loginFor, signIn, waitForConsole } from "./fixtures";

// Every live feed is one SSE request, and a browser opens at most six HTTP/1.1 connections
// per host across all its tabs. A tab in the background gives its streams back, so the tab
// in front always has connections for its own streams and queries.

/** Makes the page believe it went to the background, as switching tabs does. */
const hide = (page: Page) =>
  page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => true });
    document.dispatchEvent(new Event("visibilitychange"));
  });

const openStreams = (page: Page) => {
  const open = new Set<object>();
  page.on("request", (r) => r.resourceType() === "eventsource" && open.add(r));
  page.on("requestfinished", (r) => open.delete(r));
  page.on("requestfailed", (r) => open.delete(r));
  return () => open.size;
};

test("a tab in the background gives its live streams back, so a second tab still loads", async ({ page, context }) => {
  test.setTimeout(120_000);
  const streams = openStreams(page);
  await signIn(page, loginFor("operator"), "/monitoring");
  const north = page.getByRole("table", { name: "Sites in eu-north" });
  await north.getByRole("link", { name: "eu-north BTS 1" }).click();
  await expect(page.getByTestId("site-title")).toHaveText("eu-north BTS 1");
  await expect.poll(streams, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);

  await hide(page);
  await expect.poll(streams, { timeout: 30_000 }).toBe(0);

  // A second tab with as many streams of its own loads completely.
  const second = await context.newPage();
  await second.goto(page.url());
  await waitForConsole(second);
  await expect(second.getByTestId("site-title")).toHaveText("eu-north BTS 1");
  await second.getByRole("table", { name: "Devices" }).getByRole("link", { name: "PMS-EN-01" }).click();
  await expect(second.getByTestId("device-title")).toHaveText("PMS-EN-01", { timeout: 30_000 });
  await expect(second.getByTestId("metric-chart")).toBeVisible({ timeout: 30_000 });

  // Back in view, the first tab follows live again.
  await page.evaluate(() => {
    Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "visible" });
    Object.defineProperty(document, "hidden", { configurable: true, get: () => false });
    document.dispatchEvent(new Event("visibilitychange"));
  });
  await expect.poll(streams, { timeout: 30_000 }).toBeGreaterThanOrEqual(3);
});
