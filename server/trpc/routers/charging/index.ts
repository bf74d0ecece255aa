import "server-only";
import { getKpis } from "../../../charging/get-kpis";
import { procedure, router } from "../../init";
import { commandsRouter } from "./commands";
import { ZGetKpisResponseSchema } from "./kpis.types";
import { stationsRouter } from "./stations";
import { tokensRouter } from "./tokens";
import { transactionsRouter } from "./transactions";

export const chargingRouter = router({
  /** Fleet figures for the KPI tiles, from the live view; `link` says how fresh they are. */
  kpis: procedure("charging.read").output(ZGetKpisResponseSchema).query(() => getKpis()),
  stations: stationsRouter,
  transactions: transactionsRouter,
  tokens: tokensRouter,
  commands: commandsRouter,
});
