import fs from "node:fs";
import path from "node:path";
import { expect, type Cookie, type Page } from "@playwright/test";

export type Login = { role: string; email: string; password: string; participantId?: string };

/** The demo logins `npm start` wrote for this run. */
export const logins = (): Login[] => {
  const file = path.join(process.env.E2E_DATA_DIR!, "credentials.json");
  return (JSON.parse(fs.readFileSync(file, "utf8")) as { logins: Login[] }).logins;
};

export const loginFor = (role: string, participant?: string) => {
  const found = logins().find((l) => l.role === role && (!participant || l.participantId === participant));
  if (!found) throw new Error(`no demo login for ${role}`);
  return found;
};

/** Session cookies by email, so specs that only need a signed-in user do not hit the sign-in rate limit. */
const sessions = new Map<string, Cookie[]>();

/**
 * Signs in through the form, or reuses this run's session for the same account (the
 * console's sign-in is rate limited per address; the suite signs in as the same few users
 * again and again). `fresh` always goes through the form.
 */
export const signIn = async (page: Page, { email, password }: { email: string; password: string }, next?: string, { fresh = false }: { fresh?: boolean } = {}) => {
  const saved = fresh ? undefined : sessions.get(email);
  if (saved) {
    await page.context().addCookies(saved);
    await page.goto(next ?? "/");
    if (!new URL(page.url()).pathname.startsWith("/login")) return waitForConsole(page);
  }
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter");
  await expect(page).not.toHaveURL(/\/login/);
  sessions.set(email, (await page.context().cookies()).filter((c) => c.name.endsWith("session_token")));
  await waitForConsole(page);
};

/** Until the console's shell has hydrated: before that a click on a button does nothing. */
export const waitForConsole = (page: Page) => page.locator("html[data-hydrated]").waitFor({ state: "attached" });
