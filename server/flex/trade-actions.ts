import "server-only";
import { randomBytes } from "node:crypto";
import type { CreateRequest, ReviseRequest } from "../../contracts/flex/api";
import type { FlexRequest, Trade } from "../../contracts/flex/entities";
import { submitCommand, type CommandActor, type CommandReply } from "../commands/submit-command";
import { requireConnector } from "../connectors/kit/registry";
import type { FlexConnector, FlexTrader } from "../connectors/flex";
import { requestKey } from "../connectors/flex/store";
import { UpstreamContractError, UpstreamHttpError, UpstreamUnreachableError } from "../connectors/kit/upstream-errors";
import type { Db } from "../db";
import { env } from "../env";
import { AppError } from "../errors";
import type { SessionUser } from "../trpc/init";
import { actingParticipant, seesParticipant, traderFor } from "./act-as";

type Base = { db: Db; user: SessionUser; traceId: string; idempotencyKey: string };

const STALE_SOCKET = /ECONNRESET|EPIPE|UND_ERR_SOCKET|other side closed/i;

const actorOf = (user: SessionUser): CommandActor => ({ id: user.id, email: user.email, role: user.role });

/**
 * One call to a flex node as a command's outcome: the node's answer is `accepted` (with
 * what it returned), a refusal (4xx) is `rejected` with the node's reason; an unreachable
 * node or a broken answer fails the command in words.
 */
export const deliverToNode = async (nodeId: string, call: () => Promise<unknown>): Promise<CommandReply> => {
  try {
    try {
      return { status: "accepted", result: await call() };
    } catch (error) {
      // A pooled keep-alive socket the node closed as we reused it: the request never got
      // there. Every flex action is safe to repeat once (a create carries its id, a revision
      // its base revision, a signal its level; a repeated cancel is answered as not active).
      if (!(error instanceof UpstreamUnreachableError && STALE_SOCKET.test(error.reason))) throw error;
      return { status: "accepted", result: await call() };
    }
  } catch (error) {
    if (error instanceof UpstreamHttpError && error.status >= 400 && error.status < 500) {
      const fields = error.fields.map((f) => (f.path ? `${f.path}: ${f.message}` : f.message)).join("; ");
      return { status: "rejected", result: { code: error.code, status: error.status }, error: `${error.message}${fields ? ` (${fields})` : ""}` };
    }
    if (error instanceof UpstreamHttpError) throw new Error(`Flex node ${nodeId} failed (HTTP ${error.status}): ${error.message}`);
    if (error instanceof UpstreamUnreachableError) throw new Error(`Flex node ${nodeId} unreachable (${error.reason}); nothing was sent.`);
    if (error instanceof UpstreamContractError) throw new Error(`Flex node ${nodeId} answered in a shape the console does not understand (${error.issues[0] ?? "unreadable"}); check the request before retrying.`);
    throw error;
  }
};

const submit = ({ db, user, traceId, idempotencyKey }: Base, { trader, target, action, payload, call }: { trader: FlexTrader; target: string; action: string; payload: Record<string, unknown>; call: (signal: AbortSignal) => Promise<unknown> }) =>
  submitCommand({
    db,
    actor: actorOf(user),
    traceId,
    idempotencyKey,
    domain: "flex",
    target,
    action,
    payload: { participantId: trader.participantId, nodeId: trader.nodeId, ...payload },
    timeoutMs: env().FLEX_COMMAND_TIMEOUT_MS,
    // The page wants the node's verdict (and the request it made) in the answer itself.
    waitForOutcome: true,
    send: (_command, signal) => deliverToNode(trader.nodeId, () => call(signal)),
  });

/** Checks the market rules the node would check, so a form gets its error on the field and no command is stored. */
const checkRequestFields = (flex: FlexConnector, nodeId: string, r: { gridNodeId?: string; periodFrom: number; periodTo: number; quantityW: number; minQuantityW?: number }) => {
  const node = flex.store.nodes.get(nodeId);
  if (r.periodTo <= r.periodFrom) throw new AppError("BAD_REQUEST", "The period must end after it starts.", "periodTo");
  if (r.periodTo <= Date.now()) throw new AppError("BAD_REQUEST", "The period is already over.", "periodTo");
  if (r.quantityW <= 0) throw new AppError("BAD_REQUEST", "Ask for more than 0 W.", "quantityW");
  if ((r.minQuantityW ?? 0) > r.quantityW) throw new AppError("BAD_REQUEST", "The minimum must not exceed the quantity.", "minQuantityW");
  if (!node) return;
  if (node.periodMs > 0 && (r.periodFrom % node.periodMs !== 0 || r.periodTo % node.periodMs !== 0)) {
    throw new AppError("BAD_REQUEST", `Periods start and end on ${Math.round(node.periodMs / 1000)} s market windows.`, "periodFrom");
  }
  if (node.role === "DSO") {
    if (!r.gridNodeId) throw new AppError("BAD_REQUEST", `A DSO request names a grid node (${node.gridNodes.join(", ")}).`, "gridNodeId");
    if (!node.gridNodes.includes(r.gridNodeId)) throw new AppError("BAD_REQUEST", `Node ${nodeId} serves ${node.gridNodes.join(", ")}, not ${r.gridNodeId}.`, "gridNodeId");
  }
};

export type CreateRequestInput = Omit<CreateRequest, "buyerId" | "id" | "marketId"> & { participantId?: string };

/** A new flexibility request for the acting participant, on the node that holds that participant. */
export const createFlexRequest = async (base: Base, { participantId: requested, ...fields }: CreateRequestInput) => {
  const flex = requireConnector("flex");
  const trader = traderFor(flex, actingParticipant(base.user, requested));
  checkRequestFields(flex, trader.nodeId, fields);
  // The console picks the id, so a retried delivery is the same request on the node.
  const id = `req-${randomBytes(6).toString("hex")}`;
  const body: CreateRequest = { ...fields, id, buyerId: trader.participantId };
  return submit(base, { trader, target: `${trader.nodeId}/${id}`, action: "request.create", payload: { request: body }, call: (signal) => trader.client.createRequest(body, signal) });
};

/** A request the caller may act on: known, and (for traders) their own — anything else is NOT_FOUND. */
const ownRequest = async (flex: FlexConnector, user: SessionUser, nodeId: string, requestId: string): Promise<FlexRequest> => {
  const request = flex.store.requests.get(requestKey({ nodeId, id: requestId })) ?? (await lookupRequest(flex, nodeId, requestId));
  if (!request || !seesParticipant(user, request.buyerId)) throw new AppError("NOT_FOUND", `Request ${requestId.slice(0, 80)} does not exist.`);
  return request;
};

const lookupRequest = async (flex: FlexConnector, nodeId: string, requestId: string) => {
  const node = flex.nodes.get(nodeId);
  if (!node) return undefined;
  try {
    return await node.client.getRequest(requestId);
  } catch (error) {
    if (error instanceof UpstreamHttpError && error.status === 404) return undefined;
    throw error;
  }
};

const traderOfRequest = (flex: FlexConnector, user: SessionUser, request: FlexRequest) => {
  const trader = traderFor(flex, actingParticipant(user, user.role === "admin" ? request.buyerId : undefined));
  if (trader.participantId !== request.buyerId) throw new AppError("NOT_FOUND", `Request ${request.id} does not exist.`);
  return trader;
};

const requireActive = (request: FlexRequest) => {
  if (request.status !== "active") throw new AppError("CONFLICT", `Request ${request.id} is ${request.status}; only active requests change.`);
};

export type ReviseRequestInput = ReviseRequest & { nodeId: string; requestId: string };

/** A new revision of one of the participant's active requests (optimistic: `revision` must be current). */
export const reviseFlexRequest = async (base: Base, { nodeId, requestId, ...change }: ReviseRequestInput) => {
  const flex = requireConnector("flex");
  const request = await ownRequest(flex, base.user, nodeId, requestId);
  requireActive(request);
  const trader = traderOfRequest(flex, base.user, request);
  const next = { ...request, ...Object.fromEntries(Object.entries(change).filter(([k, v]) => v !== undefined && k !== "revision")) };
  checkRequestFields(flex, nodeId, next);
  // Always based on a revision, so a repeated delivery can never stack a second one.
  const based = { ...change, revision: change.revision ?? request.revision };
  return submit(base, { trader, target: `${nodeId}/${requestId}`, action: "request.revise", payload: { change: based }, call: (signal) => trader.client.reviseRequest(requestId, based, signal) });
};

/** Cancels one of the participant's active requests (the node keeps it as a cancelled revision). */
export const cancelFlexRequest = async (base: Base, { nodeId, requestId }: { nodeId: string; requestId: string }) => {
  const flex = requireConnector("flex");
  const request = await ownRequest(flex, base.user, nodeId, requestId);
  requireActive(request);
  const trader = traderOfRequest(flex, base.user, request);
  return submit(base, { trader, target: `${nodeId}/${requestId}`, action: "request.cancel", payload: {}, call: (signal) => trader.client.cancelRequest(requestId, signal) });
};

/** A trade the caller may act on: known and (for traders) their own. */
export const ownTrade = (flex: FlexConnector, user: SessionUser, nodeId: string, tradeId: string): Trade => {
  const trade = flex.store.trades.get(`${nodeId}/${tradeId}`);
  if (!trade || !seesParticipant(user, trade.buyerId)) throw new AppError("NOT_FOUND", `Trade ${tradeId.slice(0, 120)} does not exist.`);
  return trade;
};

/** The LFC activation signal for one awarded trade: the level asked of the whole trade (0 ends it). */
export const signalFlexActivation = async (base: Base, { nodeId, tradeId, setpointW, until }: { nodeId: string; tradeId: string; setpointW: number; until?: number }) => {
  const flex = requireConnector("flex");
  const trade = ownTrade(flex, base.user, nodeId, tradeId);
  if (setpointW > trade.quantityW) throw new AppError("BAD_REQUEST", `The trade covers ${trade.quantityW} W; ask for at most that.`, "setpointW");
  if (Date.now() >= trade.periodEnd || trade.status === "settled") throw new AppError("CONFLICT", "The trade's period is over; it can no longer be activated.");
  const trader = traderFor(flex, actingParticipant(base.user, base.user.role === "admin" ? trade.buyerId : undefined));
  if (trader.participantId !== trade.buyerId) throw new AppError("NOT_FOUND", `Trade ${tradeId} does not exist.`);
  const body = { tradeId, setpointW, ...(until ? { until } : {}) };
  return submit(base, { trader, target: `${nodeId}/${tradeId}`, action: setpointW === 0 ? "activation.end" : "activation.signal", payload: body, call: (signal) => trader.client.sendSignal(body, signal) });
};
