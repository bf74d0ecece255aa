import "server-only";
import { db } from "../db";
import { env } from "../env";
import { createAuth, type Auth } from "./auth";

const g = globalThis as unknown as { __switchyardAuth?: Auth };
/** The process's better-auth instance over the process's database. */
export const auth = (): Auth => (g.__switchyardAuth ??= createAuth({ db: db(), env: env() }));
export const setAuth = (a: Auth | undefined) => {
  g.__switchyardAuth = a;
};
