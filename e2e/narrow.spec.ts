import { expect, test } from "@playwright/test";
import { loginFor, signIn } from "./fixtures";

test("on a phone-sized screen the navigation folds behind a menu button that works by keyboard", async ({ page }) => {
  await signIn(page, loginFor("operator"));
  const menu = page.getByRole("button", { name: "Menu", exact: true });
  await expect(menu).toBeVisible();
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await menu.click();
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Audit log" }).click();
  await expect(page).toHaveURL(/\/audit/);
  await expect(menu).toHaveAttribute("aria-expanded", "false");
  await expect(page.getByTestId("health-bar")).toBeVisible();
  await menu.focus();
  await page.keyboard.press("Enter");
  await expect(menu).toHaveAttribute("aria-expanded", "true");
  await page.keyboard.press("Escape");
  await expect(menu).toHaveAttribute("aria-expanded", "false");
});
