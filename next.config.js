/** @type {import('next').NextConfig} */
const nextConfig = {
  // Long-lived connections, WASM Postgres and native-ish modules stay as plain Node
  // requires instead of being bundled into the server build.
  serverExternalPackages: [
    "@electric-sql/pglite",
    "pglite-prisma-adapter",
    "@prisma/client",
    "@prisma/adapter-pg",
    "pg",
    "pino",
    "mqtt",
    "aedes",
    "prom-client",
  ],
  poweredByHeader: false,
  reactStrictMode: true,
  typedRoutes: false,
};

export default nextConfig;
