import { expect, test } from "@playwright/test";
import { loginFor, logins, signIn } from "./fixtures";

const NAV: Record<string, { visible: string[]; hidden: string[] }> = {
  admin: { visible: ["Overview", "Charging", "Commands", "Audit log", "Users"], hidden: [] },
  operator: { visible: ["Overview", "Charging", "Commands", "Audit log"], hidden: ["Users"] },
  trader: { visible: ["Overview", "Commands"], hidden: ["Charging", "Audit log", "Users"] },
  support: { visible: ["Overview", "Charging", "Commands"], hidden: ["Audit log", "Users"] },
  viewer: { visible: ["Overview", "Charging"], hidden: ["Commands", "Audit log", "Users"] },
};

test.describe("sign-in and the shell, for every role", () => {
  for (const role of Object.keys(NAV)) {
    test(`${role} signs in, sees their navigation and the live health bar`, async ({ page }) => {
      await signIn(page, loginFor(role));
      const nav = page.getByRole("navigation", { name: /main/i });
      for (const item of NAV[role].visible) await expect(nav.getByRole("link", { name: item })).toBeVisible();
      for (const item of NAV[role].hidden) await expect(nav.getByRole("link", { name: item })).toHaveCount(0);
      const bar = page.getByTestId("health-bar");
      await expect(bar.getByTestId("health-mqtt")).toHaveAttribute("data-state", "connected");
      await expect(bar.getByTestId("health-site")).toHaveAttribute("data-state", "connected");
      await expect(bar.getByTestId("health-charging")).toHaveAttribute("data-state", "connected");
      await expect(bar.getByTestId("health-mqtt")).toContainText(/ago|just now/i);
    });
  }

  test("all demo logins were printed for every role", async () => {
    expect(new Set(logins().map((l) => l.role))).toEqual(new Set(["admin", "operator", "trader", "support", "viewer"]));
    expect(logins().filter((l) => l.role === "trader").map((l) => l.participantId).sort()).toEqual(["dso-north", "tso-1"]);
  });
});

test("a wrong password is refused with a visible error", async ({ page }) => {
  await page.goto("/login");
  await page.getByLabel("Email").fill(loginFor("operator").email);
  await page.getByLabel("Password").fill("definitely-not-it");
  await page.getByRole("button", { name: /sign in/i }).click();
  await expect(page.getByRole("alert").filter({ hasText: /invalid|wrong|incorrect/i })).toBeVisible();
  await expect(page).toHaveURL(/\/login/);
});

test("a page visited without a session returns to that page after sign-in", async ({ page }) => {
  await page.goto("/audit?action=auth.");
  await expect(page).toHaveURL(/\/login\?next=/);
  await page.getByLabel("Email").fill(loginFor("operator").email);
  await page.getByLabel("Password").fill(loginFor("operator").password);
  await page.getByLabel("Password").press("Enter");
  await expect(page).toHaveURL(/\/audit\?action=auth\./);
});

test("an expired session sends the user to sign-in and back to the same page", async ({ page, context }) => {
  await signIn(page, loginFor("admin"), "/commands");
  await expect(page).toHaveURL(/\/commands/);
  // The server forgets the session (as on expiry); the browser still holds the cookie.
  const cookies = await context.cookies();
  await context.clearCookies();
  await context.addCookies(cookies.map((c) => (c.name.endsWith("session_token") ? { ...c, value: "expired.token" } : c)));
  await page.goto("/commands");
  await expect(page).toHaveURL(/\/login\?next=%2Fcommands/);
  await page.getByLabel("Email").fill(loginFor("admin").email);
  await page.getByLabel("Password").fill(loginFor("admin").password);
  await page.getByLabel("Password").press("Enter");
  await expect(page).toHaveURL(/\/commands$/);
});

test("an admin creates a user, the audit log shows it, and the new user can sign in", async ({ page, browser }) => {
  const email = `e2e.${Date.now()}@switchyard.test`;
  await signIn(page, loginFor("admin"));
  await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Users" }).click();
  await page.getByTestId("new-user-button").click();
  const form = page.getByRole("form", { name: /new user/i });
  await form.getByLabel("Name").fill("E2E Support");
  await form.getByLabel("Email").fill(email);
  await form.getByLabel("Role").selectOption("support");
  await form.getByLabel("Password").fill("e2e-password-12345");
  await form.getByRole("button", { name: /create/i }).click();
  await expect(page.getByTestId(`user-row-${email}`)).toBeVisible();

  await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Audit log" }).click();
  await expect(page.getByRole("row").filter({ hasText: "admin.users.create" }).filter({ hasText: email }).first()).toBeVisible();

  const other = await browser.newPage();
  await signIn(other, { email, password: "e2e-password-12345" });
  await expect(other.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Commands" })).toBeVisible();
  await other.close();
});

test("a viewer cannot reach the admin pages, even by URL", async ({ page }) => {
  await signIn(page, loginFor("viewer"));
  await expect(page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Users" })).toHaveCount(0);
  await page.goto("/admin/users");
  await expect(page.getByText(/don.t have access|not allowed|forbidden/i).first()).toBeVisible();
  await expect(page.getByTestId("new-user-button")).toHaveCount(0);
});

test("support pings the site and watches the command reach its outcome live", async ({ page }) => {
  await signIn(page, loginFor("support"));
  await page.getByRole("button", { name: /ping site/i }).click();
  await expect(page.getByTestId("ping-status")).toContainText(/accepted/i);
  await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Commands" }).click();
  await expect(page.getByRole("row").filter({ hasText: "ping" }).first()).toContainText(/accepted/i);
});
