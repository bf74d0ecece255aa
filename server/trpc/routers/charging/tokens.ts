import "server-only";
import { requireConnector } from "../../../connectors/kit/registry";
import { viaUpstream } from "../../../errors";
import { procedure, router } from "../../init";
import {
  ZCreateTokenRequestSchema,
  ZCreateTokenResponseSchema,
  ZDeleteTokenRequestSchema,
  ZDeleteTokenResponseSchema,
  ZListTokensRequestSchema,
  ZListTokensResponseSchema,
  ZUpdateTokenRequestSchema,
  ZUpdateTokenResponseSchema,
} from "./tokens.types";

const auditIdTag = (input: unknown) => (input as { idTag?: string } | undefined)?.idTag;
const csms = () => requireConnector("charging").client;

// Authorization tokens are managed by support (and admins): writing them is charging.command.
export const tokensRouter = router({
  list: procedure("charging.read")
    .input(ZListTokensRequestSchema)
    .output(ZListTokensResponseSchema)
    .query(({ input }) => viaUpstream(csms().listTokens(input))),

  create: procedure("charging.command", { auditTarget: auditIdTag })
    .input(ZCreateTokenRequestSchema)
    .output(ZCreateTokenResponseSchema)
    .mutation(({ input }) => viaUpstream(csms().createToken({ ...input, expiresAt: input.expiresAt?.toISOString() ?? null }), `Token ${input.idTag}`)),

  update: procedure("charging.command", { auditTarget: auditIdTag })
    .input(ZUpdateTokenRequestSchema)
    .output(ZUpdateTokenResponseSchema)
    .mutation(({ input: { idTag, expiresAt, ...rest } }) =>
      viaUpstream(csms().updateToken(idTag, { ...rest, ...(expiresAt !== undefined ? { expiresAt: expiresAt?.toISOString() ?? null } : {}) }), `Token ${idTag}`),
    ),

  delete: procedure("charging.command", { auditTarget: auditIdTag })
    .input(ZDeleteTokenRequestSchema)
    .output(ZDeleteTokenResponseSchema)
    .mutation(async ({ input }) => {
      await viaUpstream(csms().deleteToken(input.idTag), `Token ${input.idTag}`);
      return { idTag: input.idTag };
    }),
});
