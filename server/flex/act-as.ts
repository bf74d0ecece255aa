import "server-only";
import type { FlexConnector, FlexTrader } from "../connectors/flex";
import { AppError } from "../errors";
import type { SessionUser } from "../trpc/init";

/**
 * Whom a flex action is for. A trader acts only for the participant on their own account
 * (from the session; a different `participantId` in the input is refused). An admin names
 * the participant explicitly. Everyone else has no participant to act for.
 */
export const actingParticipant = (user: SessionUser, requested: string | undefined): string => {
  if (user.role === "admin") {
    if (!requested) throw new AppError("BAD_REQUEST", "Choose the participant to act for.", "participantId");
    return requested;
  }
  if (!user.participantId) throw new AppError("FORBIDDEN", "Your account is not linked to a market participant; ask an admin to link it.");
  if (requested && requested !== user.participantId) throw new AppError("FORBIDDEN", `You act only for your own participant (${user.participantId}), not ${requested}.`);
  return user.participantId;
};

/** Whether `user` may see what belongs to `ownerId` (traders: their own participant only). */
export const seesParticipant = (user: Pick<SessionUser, "role" | "participantId">, ownerId: string) => user.role !== "trader" || user.participantId === ownerId;

/** The client that carries the participant's own token, so the node checks ownership too. */
export const traderFor = (flex: FlexConnector, participantId: string): FlexTrader => {
  const trader = flex.traders.get(participantId);
  if (!trader) {
    throw new AppError("PRECONDITION_FAILED", `The console holds no flex token for participant ${participantId} (FLEX_TRADER_NODES / FLEX_TRADER_TOKENS), so it cannot act for it.`);
  }
  return trader;
};
