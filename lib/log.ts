import pino from "pino";

// Structured JSON logs on stdout; every request logger carries its request and trace ids.
const g = globalThis as unknown as { __switchyardLogger?: pino.Logger };
export const logger = (): pino.Logger =>
  (g.__switchyardLogger ??= pino({
    level: process.env.LOG_LEVEL ?? (process.env.NODE_ENV === "test" ? "silent" : "info"),
    base: { service: process.env.SWITCHYARD_SERVICE ?? "console" },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ["*.password", "*.newPassword", "password", "newPassword", "req.headers.cookie", "req.headers.authorization"], censor: "[redacted]" },
  }));
