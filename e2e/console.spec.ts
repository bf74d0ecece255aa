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
      await signIn(page, loginFor(role), undefined, { fresh: true });
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
  // Leave the page first: an open page notices a dead session by itself (its live feeds get
  // UNAUTHORIZED) and goes to sign-in on its own, which would race the navigation below.
  await page.goto("about:blank");
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
  await expect(page.getByRole("heading", { level: 1, name: "You don't have access to user management" })).toBeVisible();
  await expect(page.getByRole("button", { name: "New user" })).toHaveCount(0);
});

/** Pages each role may not read, by URL: the answer is a heading and a sentence, never a spinner or a code. */
const FORBIDDEN_PAGES: { role: string; path: string; what: string }[] = [
  { role: "trader", path: "/charging", what: "charging" },
  { role: "trader", path: "/charging/SIM00001", what: "charging" },
  { role: "trader", path: "/charging/tokens", what: "charging" },
  { role: "trader", path: "/robots", what: "robots" },
  { role: "trader", path: "/robots/tasks/some-task", what: "robots" },
  { role: "trader", path: "/audit", what: "the audit log" },
  { role: "viewer", path: "/commands", what: "commands" },
  { role: "support", path: "/audit?action=auth.", what: "the audit log" },
  { role: "operator", path: "/admin/users", what: "user management" },
  { role: "trader", path: "/monitoring", what: "monitoring" },
  { role: "trader", path: "/monitoring/alarms", what: "monitoring" },
  { role: "operator", path: "/monitoring/flags", what: "monitoring feature flags" },
];

test("a role without a page's permission gets the no-access page, with a heading, by URL", async ({ page }) => {
  for (const role of new Set(FORBIDDEN_PAGES.map((p) => p.role))) {
    await page.context().clearCookies();
    await signIn(page, loginFor(role));
    for (const { path, what } of FORBIDDEN_PAGES.filter((p) => p.role === role)) {
      await page.goto(path);
      const main = page.getByRole("main");
      await expect(main.getByRole("heading", { level: 1, name: `You don't have access to ${what}` })).toBeVisible();
      await expect(main.getByText(`cannot see ${what}. Ask an admin if you need it.`)).toBeVisible();
      await expect(main).not.toContainText(/Loading|\.read\b|FORBIDDEN/);
    }
  }
});

test("a form says what is wrong with a field in words, next to the field", async ({ page }) => {
  await signIn(page, loginFor("admin"), "/admin/users");
  await page.getByRole("button", { name: "New user" }).click();
  const form = page.getByRole("form", { name: "New user" });
  await expect(form.getByLabel("Name")).toBeFocused();
  await form.getByLabel("Email").fill("not-an-email");
  await form.getByLabel(/password/i).fill("short");
  await form.getByRole("button", { name: "Create user" }).click();

  await expect(form.getByLabel("Name")).toHaveAttribute("aria-invalid", "true");
  await expect(form.getByLabel("Name")).toHaveAccessibleDescription("Name is required.");
  await expect(form.getByLabel("Email")).toHaveAccessibleDescription(/Enter a valid email address/);
  await expect(form.getByLabel(/password/i)).toHaveAccessibleDescription(/Use at least 10 characters\./);
  await expect(form).not.toContainText(/Invalid input|expected string|received undefined/);
  // Nothing was created.
  await form.getByRole("button", { name: "Cancel" }).click();
  await expect(page.getByRole("row").filter({ hasText: "not-an-email" })).toHaveCount(0);
});

test("a confirm dialog starts on the safe choice: Enter or Escape changes nothing, and focus returns", async ({ page }) => {
  await signIn(page, loginFor("admin"), "/admin/users");
  const row = page.getByRole("row").filter({ hasText: "viewer@switchyard.local" });
  const disable = row.getByRole("button", { name: "Disable viewer@switchyard.local" });

  await disable.click();
  const dialog = page.getByRole("dialog", { name: "Disable user" });
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Escape");
  await expect(dialog).toHaveCount(0);
  await expect(disable).toBeFocused();

  await page.keyboard.press("Enter");
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await page.keyboard.press("Enter");
  await expect(dialog).toHaveCount(0);
  await expect(row).toContainText("Enabled");
});

test("an admin unlocks a user's sign-in from the users page", async ({ page }) => {
  await signIn(page, loginFor("admin"), "/admin/users");
  await page.getByRole("button", { name: "Unlock sign-in for operator@switchyard.local" }).click();
  const dialog = page.getByRole("dialog", { name: "Unlock sign-in" });
  await expect(dialog.getByRole("button", { name: "Cancel" })).toBeFocused();
  await dialog.getByRole("button", { name: "Unlock sign-in" }).click();
  await expect(dialog).toHaveCount(0);
  await expect(page.getByRole("status").filter({ hasText: "operator@switchyard.local" })).toContainText(/can sign in again now|nothing to unlock/);
});

test("support pings the site and watches the command reach its outcome live", async ({ page }) => {
  await signIn(page, loginFor("support"));
  await page.getByRole("button", { name: /ping site/i }).click();
  await expect(page.getByTestId("ping-status")).toContainText(/accepted/i);
  await page.getByRole("navigation", { name: /main/i }).getByRole("link", { name: "Commands" }).click();
  await expect(page.getByRole("row").filter({ hasText: "ping" }).first()).toContainText(/accepted/i);
});
