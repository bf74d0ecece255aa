import nextVitals from "eslint-config-next/core-web-vitals";
import nextTs from "eslint-config-next/typescript";

/**
 * Rooms and the one direction imports flow (docs/architecture.md):
 *   app/ → contracts/ (+ type-only server/)      server/ → contracts/, lib/
 *   services/, sim/ → contracts/, lib/            lib/ → contracts/    contracts/ → (zod only)
 * A back import fails `npm run lint`. Route handlers, pages and layouts under app/ run on the
 * server and may call server/ at runtime; everything else in app/ may only borrow its types.
 */
const room = (...names) => names.flatMap((n) => [`@/${n}`, `@/${n}/**`, `**/${n}/**`, `../${n}`, `../../${n}`, `../../../${n}`]);
const forbid = (names, message, extra = {}) => ({
  group: room(...names),
  message,
  ...extra,
});

const restrict = (...patterns) => ({
  "no-restricted-imports": "off",
  "@typescript-eslint/no-restricted-imports": ["error", { patterns }],
});

const config = [
  ...nextVitals,
  ...nextTs,
  { ignores: [".next/**", "node_modules/**", ".data/**", "next-env.d.ts", "test-results/**", "playwright-report/**"] },
  {
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
    },
  },
  {
    files: ["contracts/**/*.ts"],
    rules: restrict(forbid(["server", "scripts", "app", "services", "sim", "lib", "bench"], "contracts/ holds wire types only: it imports nothing but zod and other contracts.")),
  },
  {
    files: ["lib/**/*.ts"],
    rules: restrict(forbid(["server", "scripts", "app", "services", "sim", "bench"], "lib/ is shared by services, simulators and the BFF: it may import contracts/ only.")),
  },
  {
    files: ["services/**/*.ts", "sim/**/*.ts"],
    rules: restrict(forbid(["server", "scripts", "app", "bench"], "services/ and sim/ are the upstream systems and devices: they import contracts/ and lib/, never the console (server/, app/) or scripts/.")),
  },
  {
    files: ["server/**/*.ts"],
    ignores: ["server/**/*.test.ts"],
    rules: restrict(
      forbid(["app", "scripts", "bench"], "server/ is the BFF: it imports contracts/ and lib/, never app/ or scripts/."),
      forbid(["services", "sim"], "The console talks to upstreams only through their public interfaces (contracts/), never by importing their code."),
    ),
  },
  {
    files: ["app/**/*.ts", "app/**/*.tsx"],
    ignores: ["app/**/page.tsx", "app/**/layout.tsx", "app/**/route.ts"],
    rules: restrict(
      forbid(["server"], "Browser code may only borrow types from server/ (import type …); shared values belong in contracts/.", { allowTypeImports: true }),
      forbid(["services", "sim", "scripts", "lib", "bench"], "app/ renders: it imports contracts/ (and types from server/) only."),
    ),
  },
  {
    files: ["app/**/page.tsx", "app/**/layout.tsx", "app/**/route.ts"],
    rules: restrict(forbid(["services", "sim", "scripts", "bench"], "app/ reaches upstreams through server/, never their code.")),
  },
];

export default config;
