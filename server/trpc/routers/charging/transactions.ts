import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { AppError, viaUpstream } from "../../../errors";
import { procedure, router } from "../../init";
import { ZGetTransactionRequestSchema, ZGetTransactionResponseSchema, ZListTransactionsRequestSchema, ZListTransactionsResponseSchema } from "./transactions.types";

// The manager's transaction ids are at most 100 characters; a longer one cannot exist.
const MAX_TRANSACTION_ID = 100;

export const transactionsRouter = router({
  list: procedure("charging.read")
    .input(ZListTransactionsRequestSchema)
    .output(ZListTransactionsResponseSchema)
    .query(({ input }) => viaUpstream(requireConnector("charging").client.listTransactions(input))),

  get: procedure("charging.read")
    .input(ZGetTransactionRequestSchema)
    .output(ZGetTransactionResponseSchema)
    .query(({ input }) => {
      const { client } = requireConnector("charging");
      if (!input.id || input.id.length > MAX_TRANSACTION_ID) throw new AppError("NOT_FOUND", "No such transaction.");
      return viaUpstream(client.getTransaction(input.id), `Transaction ${input.id}`);
    }),
});
