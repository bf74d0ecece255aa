import { z } from "zod";
import { runService } from "../../lib/run-service";
import { requireSecret, rmfCommonEnv, roomLimits, zRmfPort } from "../lib/env";
import { startProxy } from "./proxy";

/** Every setting a proxy reads (services/rmf/README.md lists them). */
const proxyEnvSchema = z.object({
  ...rmfCommonEnv,
  RMF_PROXY_HOST: z.string().default("127.0.0.1"),
  RMF_PROXY_PORT: zRmfPort.default(8001),
  RMF_MAIN_URL: z.string().regex(/^https?:\/\//, "must be http:// or https://").default("http://127.0.0.1:8000"),
  RMF_PROXY_ID: z.string().regex(/^[A-Za-z0-9._:-]{1,64}$/).optional(),
});

runService({
  name: "rmf-proxy",
  envSchema: proxyEnvSchema,
  start: async ({ env: e, log }) => {
    const proxy = await startProxy({
      host: e.RMF_PROXY_HOST,
      port: e.RMF_PROXY_PORT,
      mainUrl: e.RMF_MAIN_URL,
      jwtSecret: requireSecret(e.RMF_JWT_SECRET, e.SWITCHYARD_DATA_DIR, "rmfJwtSecret", "RMF_JWT_SECRET"),
      jwtIssuer: e.RMF_JWT_ISSUER,
      proxyId: e.RMF_PROXY_ID,
      limits: roomLimits(e),
      metricsToken: e.RMF_METRICS_TOKEN,
      log,
    });
    return { ready: { url: proxy.url, mainUrl: e.RMF_MAIN_URL }, close: proxy.close };
  },
});
