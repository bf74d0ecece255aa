import fs from "node:fs";
import path from "node:path";
import { expect, type Page } from "@playwright/test";

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

export const signIn = async (page: Page, { email, password }: { email: string; password: string }, next?: string) => {
  await page.goto(next ? `/login?next=${encodeURIComponent(next)}` : "/login");
  await page.getByLabel("Email").fill(email);
  await page.getByLabel("Password").fill(password);
  await page.getByLabel("Password").press("Enter");
  await expect(page).not.toHaveURL(/\/login/);
};
