import path from "node:path";
import { ESLint } from "eslint";
import { describe, expect, it } from "vitest";

// `npm run lint` is what keeps imports flowing one way; this proves the rule bites on each
// kind of back import and lets the legitimate ones through (eslint.config.mjs).
const eslint = new ESLint({ cwd: path.resolve(import.meta.dirname, "..") });

const errorsFor = async (filePath: string, code: string) => {
  const [result] = await eslint.lintText(code, { filePath: path.resolve(import.meta.dirname, "..", filePath) });
  return result.messages.filter((m) => m.ruleId === "@typescript-eslint/no-restricted-imports").map((m) => m.message);
};

describe("import boundaries", () => {
  it.each([
    ["services/csms/manager/x.ts", 'import { env } from "../../../server/env";\nexport const x = env;'],
    ["services/site/x.ts", 'import { start } from "../../scripts/start";\nexport const x = start;'],
    ["sim/ocpp/x.ts", 'import { logger } from "../../server/log";\nexport const x = logger;'],
    ["lib/x.ts", 'import { startManager } from "../services/csms/manager/manager";\nexport const x = startManager;'],
    ["contracts/csms/x.ts", 'import { logger } from "../../lib/log";\nexport const x = logger;'],
    ["server/charging/x.ts", 'import { startManager } from "../../services/csms/manager/manager";\nexport const x = startManager;'],
    ["app/(console)/charging/x.tsx", 'import { db } from "@/server/db";\nexport const x = db;'],
    ["app/(console)/charging/x.tsx", 'import { logger } from "@/lib/log";\nexport const x = logger;'],
  ])("refuses %s importing across the line", async (file, code) => {
    expect(await errorsFor(file, code)).toHaveLength(1);
  });

  it.each([
    ["services/csms/manager/x.ts", 'import { logger } from "../../../lib/log";\nimport { csmsTopics } from "../../../contracts/csms";\nexport const x = [logger, csmsTopics];'],
    ["server/charging/x.ts", 'import { ZCommandSpec } from "../../contracts/csms";\nimport { Feed } from "../../lib/feed";\nexport const x = [ZCommandSpec, Feed];'],
    ["app/(console)/charging/x.tsx", 'import type { AppRouter } from "@/server/trpc/routers/_app";\nimport { COMMAND_ACTIONS } from "@/contracts/csms";\nexport type R = AppRouter;\nexport const x = COMMAND_ACTIONS;'],
    ["app/(console)/charging/page.tsx", 'import { auth } from "@/server/auth";\nexport const x = auth;'],
  ])("allows %s its own direction", async (file, code) => {
    expect(await errorsFor(file, code)).toEqual([]);
  });
});
