import { z } from "zod";
import { readCredentials } from "../../../lib/credentials";
import { zPort } from "../../../lib/env";

/**
 * Settings shared by RMF main and proxy. Secrets default to the ones `npm start` generated
 * into `.data/credentials.json` (`rmfJwtSecret`, `rmfInternalToken`), so the processes run
 * by hand next to a site need no flags.
 */
const secret = z.string().min(16, "must be at least 16 characters");
export const positiveInt = (max: number) => z.coerce.number().int().min(0).max(max);

export const rmfCommonEnv = {
  RMF_JWT_SECRET: secret.optional(),
  RMF_JWT_ISSUER: z.string().min(1).default("switchyard"),
  RMF_MAX_ROOMS_PER_SOCKET: positiveInt(1_000_000).default(2000),
  RMF_SUBSCRIBES_PER_SEC: positiveInt(1_000_000).default(200),
  RMF_MIN_STATE_INTERVAL_MS: positiveInt(10_000).default(50),
  RMF_METRICS_TOKEN: z.string().min(1).optional(),
  SWITCHYARD_DATA_DIR: z.string().default(".data"),
};
export const zRmfPort = zPort;

/** A secret from the environment, else from credentials.json; a readable error when neither has it. */
export const requireSecret = (value: string | undefined, dataDir: string, key: "rmfJwtSecret" | "rmfInternalToken", envName: string) => {
  const found = value ?? readCredentials(dataDir).secrets?.[key];
  if (!found || found.length < 16) throw new Error(`Invalid configuration:\n  ${envName}: required (16+ characters); npm start generates one into ${dataDir}/credentials.json`);
  return found;
};

export const roomLimits = (e: { RMF_MAX_ROOMS_PER_SOCKET: number; RMF_SUBSCRIBES_PER_SEC: number; RMF_MIN_STATE_INTERVAL_MS: number }) => ({
  maxRoomsPerSocket: e.RMF_MAX_ROOMS_PER_SOCKET,
  subscribesPerSec: e.RMF_SUBSCRIBES_PER_SEC,
  subscribeBurst: Math.max(e.RMF_SUBSCRIBES_PER_SEC, Math.min(e.RMF_MAX_ROOMS_PER_SOCKET, 10 * e.RMF_SUBSCRIBES_PER_SEC)),
  minStateIntervalMs: e.RMF_MIN_STATE_INTERVAL_MS,
});
