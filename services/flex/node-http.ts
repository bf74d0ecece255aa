import { randomBytes } from "node:crypto";
import type http from "node:http";
import type pino from "pino";
import type { ZodType } from "zod";
import {
  activationSignalInputSchema,
  createRequestSchema,
  FLEX_API_PREFIX,
  registerDevicesSchema,
  reviseRequestSchema,
  type Depth,
  type NodeHealth,
  type NodeInfo,
  type RegisteredDevice,
  type RegisterDevice,
} from "../../contracts/flex/api";
import { LIMITS, type ActivationSignal, type ActivationStep, type Bundle, type Device, type FlexRequest, type NodeRole, type Settlement, type Trade } from "../../contracts/flex/entities";
import { bearerToken, createRouter, HttpError, parseInput, readJsonBody, sendJson } from "../lib/http";
import type { ActivationRouter } from "./activation";
import { deviceUsername, hashDevicePassword, newDevicePassword } from "./broker-acl";
import type { LiveFeed } from "./feed";
import { PEER_PATH, type PeerBus } from "./peers";
import type { Signer } from "./signing";
import type { Collection } from "./store/store";
import { revisionOf, type Auth, type DeviceRec, type Principal, type RequestRec, type TradeRec } from "./node-types";

/**
 * The flex node's HTTP API (services/flex/README.md "HTTP API"): participant tokens, TSO/DSO
 * requests and LFC signals, FSP device registration, the lists, the console's feed and the
 * peer endpoint. It works on the node's state, handed in by startFlexNode.
 */
export type FlexHttpContext = {
  log: pino.Logger;
  nodeId: string;
  role: NodeRole;
  marketId: string;
  periodMs: number;
  topicRoot: string;
  gridNodes: Set<string>;
  tokens: Map<string, Principal>;
  signer: Signer;
  devices: Map<string, DeviceRec>;
  requests: Map<string, RequestRec>;
  trades: Map<string, TradeRec>;
  bundles: Map<string, Bundle & { offerIds?: string[] }>;
  depth: Map<string, Depth>;
  tradeSteps: Map<string, Map<number, ActivationStep>>;
  signals: Map<string, ActivationSignal>;
  signalHistory: Map<string, ActivationSignal>;
  settlements: Map<string, Settlement>;
  reject: (kind: string, reason: string, who?: { deviceId?: string; participantId?: string }) => void;
  persist: (collection: Collection, key: string, value: unknown) => void;
  flush: () => Promise<void>;
  feed: LiveFeed;
  updateRequest: (rec: RequestRec, change: Partial<FlexRequest>, bump?: boolean) => void;
  setTradeStatus: (rec: TradeRec, status: Trade["status"]) => void;
  hideOfferIds: (b: Bundle & { offerIds?: string[] }) => Bundle;
  activation: ActivationRouter;
  peerBus: PeerBus | undefined;
  info: () => NodeInfo;
  nodeHealth: () => NodeHealth;
};

export const createFlexHttpApi = (ctx: FlexHttpContext) => {
  const { log, nodeId, role, marketId, periodMs, topicRoot, gridNodes, tokens, signer, devices, requests, trades, bundles, depth, tradeSteps, signals, signalHistory, settlements } = ctx;
  const { reject, persist, flush, feed, updateRequest, setTradeStatus, hideOfferIds, activation, peerBus, info, nodeHealth } = ctx;
  const principals = new WeakMap<http.IncomingMessage, Principal>();
  const principalOf = (req: http.IncomingMessage) => principals.get(req)!;
  const routes = createRouter<Auth>({
    log,
    authorize: (req, auth) => {
      if (auth === "peer") return true;
      const p = tokens.get(bearerToken(req) ?? "");
      if (!p) return false;
      principals.set(req, p);
      return true;
    },
    unauthorizedMessage: () => "missing or unknown participant token",
  });
  const need = (req: http.IncomingMessage, auth: Auth) => {
    const p = principalOf(req);
    if (auth === "any") return p;
    if (auth === "console" && p.kind === "console") return p;
    if (auth === "trader" && p.kind === "participant" && (p.role === "TSO" || p.role === "DSO")) return p;
    if (auth === "fsp" && p.kind === "participant" && p.role === "FSP") return p;
    reject("http", "forbidden", { participantId: p.kind === "participant" ? p.id : "console" });
    throw new HttpError(403, "forbidden", `this route is for ${auth === "trader" ? "TSO/DSO traders" : auth === "fsp" ? "flexibility service providers" : "the console"}`);
  };
  const sees = (p: Principal, ownerId: string) => p.kind === "console" || p.id === ownerId;
  const wrongParticipant = (p: Principal, buyerId: string) => {
    reject("request", "wrong_participant", { participantId: p.kind === "participant" ? p.id : "console" });
    return new HttpError(403, "wrong_participant", `this token acts for ${p.kind === "participant" ? p.id : "the console"}, not ${buyerId}`);
  };
  const badRequest = (p: Principal, code: string, message: string) => {
    reject("request", code, { participantId: p.kind === "participant" ? p.id : undefined });
    return new HttpError(400, code, message);
  };
  const parseCounted = <T extends ZodType>(p: Principal, schema: T, value: unknown, where: string) => {
    try {
      return parseInput(schema, value, where);
    } catch (error) {
      reject(where, "invalid", { participantId: p.kind === "participant" ? p.id : undefined });
      throw error;
    }
  };

  const checkPeriod = (p: Principal, r: { periodFrom: number; periodTo: number; expiresAt?: number; quantityW: number; minQuantityW?: number }) => {
    const now = Date.now();
    if (r.periodTo <= r.periodFrom) throw badRequest(p, "empty_period", "periodTo must be after periodFrom");
    if (r.periodTo <= now) throw badRequest(p, "period_in_past", "the period is over");
    if (r.periodTo - now > LIMITS.maxHorizonMs) throw badRequest(p, "period_too_far", `at most ${LIMITS.maxHorizonMs / 86_400_000} days ahead`);
    if (r.periodFrom % periodMs !== 0 || r.periodTo % periodMs !== 0) throw badRequest(p, "period_not_aligned", `periods start and end on ${periodMs} ms boundaries`);
    if (r.quantityW <= 0) throw badRequest(p, "quantity_not_positive", "quantityW must be positive");
    if ((r.minQuantityW ?? 0) > r.quantityW) throw badRequest(p, "min_quantity_above_quantity", "minQuantityW must not exceed quantityW");
    if (r.expiresAt !== undefined && r.expiresAt <= now) throw badRequest(p, "expired", "expiresAt is in the past");
  };

  const route = routes.route;
  const api = (path: string) => `${FLEX_API_PREFIX}${path}`;

  route("GET", api("/node"), "any", async ({ res }) => sendJson(res, 200, info()));
  route("GET", api("/health"), "any", async ({ res }) => sendJson(res, 200, nodeHealth()));

  route("POST", api("/requests"), "any", async ({ req, res }) => {
    const p = need(req, "trader");
    const body = parseCounted(p, createRequestSchema, await readJsonBody(req), "body");
    if (p.kind !== "participant" || body.buyerId !== p.id) throw wrongParticipant(p, body.buyerId);
    if ((body.marketId ?? marketId) !== marketId) throw badRequest(p, "unknown_market", `this node trades ${marketId}`);
    if (role === "DSO" && (!body.gridNodeId || !gridNodes.has(body.gridNodeId))) throw badRequest(p, "grid_node_not_served", `a DSO request names one of ${[...gridNodes].join(", ")}`);
    checkPeriod(p, body);
    const id = body.id ?? `req-${randomBytes(6).toString("hex")}`;
    const existing = requests.get(id);
    if (existing) {
      if (existing.request.buyerId !== p.id) throw wrongParticipant(p, existing.request.buyerId);
      return sendJson(res, 200, { ...existing.request, revisions: existing.revisions });
    }
    const now = Date.now();
    const request: FlexRequest = {
      id,
      buyerId: body.buyerId,
      nodeId,
      marketId,
      gridNodeId: body.gridNodeId,
      direction: body.direction,
      periodFrom: body.periodFrom,
      periodTo: body.periodTo,
      quantityW: body.quantityW,
      minQuantityW: body.minQuantityW ?? 0,
      maxUnitPrice: body.maxUnitPrice,
      expiresAt: body.expiresAt ?? body.periodTo,
      revision: 1,
      status: "active",
      receivedAt: now,
      updatedAt: now,
    };
    const rec: RequestRec = { request, revisions: [revisionOf(request)] };
    requests.set(id, rec);
    persist("requests", id, rec);
    feed.publish("request", request);
    sendJson(res, 201, { ...request, revisions: rec.revisions });
  });

  const ownRequest = (req: http.IncomingMessage, id: string) => {
    const p = principalOf(req);
    const rec = requests.get(id);
    if (!rec || !sees(p, rec.request.buyerId)) throw new HttpError(404, "not_found", `no request ${id}`);
    return { p, rec };
  };

  route("GET", api("/requests"), "any", async ({ req, res, query }) => {
    const p = principalOf(req);
    const list = [...requests.values()].map((r) => r.request).filter((r) => sees(p, r.buyerId) && (!query.status || r.status === query.status));
    sendJson(res, 200, { requests: list });
  });
  route("GET", api("/requests/:id"), "any", async ({ req, res, params }) => {
    const { rec } = ownRequest(req, params[0]);
    sendJson(res, 200, { ...rec.request, revisions: rec.revisions });
  });
  route("PATCH", api("/requests/:id"), "any", async ({ req, res, params }) => {
    const p = need(req, "trader");
    const { rec } = ownRequest(req, params[0]);
    if (p.kind !== "participant" || rec.request.buyerId !== p.id) throw wrongParticipant(p, rec.request.buyerId);
    const body = parseCounted(p, reviseRequestSchema, await readJsonBody(req), "body");
    if (rec.request.status !== "active") throw new HttpError(409, "not_active", `the request is ${rec.request.status}`);
    if (body.revision !== undefined && body.revision !== rec.request.revision) throw new HttpError(409, "revision_conflict", `the request is at revision ${rec.request.revision}`);
    const { revision: _revision, ...change } = body;
    const next = { ...rec.request, ...Object.fromEntries(Object.entries(change).filter(([, v]) => v !== undefined)) };
    checkPeriod(p, next);
    updateRequest(rec, next, true);
    sendJson(res, 200, { ...rec.request, revisions: rec.revisions });
  });
  route("DELETE", api("/requests/:id"), "any", async ({ req, res, params }) => {
    const p = need(req, "trader");
    const { rec } = ownRequest(req, params[0]);
    if (p.kind !== "participant" || rec.request.buyerId !== p.id) throw wrongParticipant(p, rec.request.buyerId);
    if (rec.request.status !== "active") throw new HttpError(409, "not_active", `the request is ${rec.request.status}`);
    updateRequest(rec, { status: "cancelled" }, true);
    sendJson(res, 200, { ...rec.request, revisions: rec.revisions });
  });

  route("GET", api("/orderbook"), "any", async ({ res, query }) => {
    const list = [...depth.values()].filter((d) => (!query.gridNode || d.gridNodeId === query.gridNode) && (!query.direction || d.direction === query.direction));
    sendJson(res, 200, { depth: list });
  });
  route("GET", api("/bundles"), "any", async ({ req, res, query }) => {
    const p = principalOf(req);
    const window = query.window ? Number(query.window) : undefined;
    const list = [...bundles.values()].filter((b) => window === undefined || b.windowStart === window).map((b) => (p.kind === "console" ? b : hideOfferIds(b)));
    sendJson(res, 200, { bundles: list });
  });
  route("GET", api("/trades"), "any", async ({ req, res }) => {
    const p = principalOf(req);
    sendJson(res, 200, { trades: [...trades.values()].map((t) => t.trade).filter((t) => sees(p, t.buyerId)) });
  });
  route("GET", api("/activations"), "any", async ({ req, res, query }) => {
    const p = principalOf(req);
    const visible = (tradeId: string) => {
      const t = trades.get(tradeId);
      return !!t && sees(p, t.trade.buyerId) && (!query.tradeId || query.tradeId === tradeId);
    };
    const steps = [...tradeSteps.entries()].filter(([id]) => visible(id)).flatMap(([, m]) => [...m.values()]);
    sendJson(res, 200, { signals: [...signalHistory.values()].filter((s) => visible(s.tradeId)), steps: steps.slice(-2000) });
  });
  route("POST", api("/activation-signals"), "any", async ({ req, res }) => {
    const p = need(req, "trader");
    const body = parseCounted(p, activationSignalInputSchema, await readJsonBody(req), "body");
    const rec = trades.get(body.tradeId);
    if (!rec || !sees(p, rec.trade.buyerId)) {
      reject("signal", "unknown_trade", { participantId: p.kind === "participant" ? p.id : undefined });
      throw new HttpError(404, "unknown_trade", `no trade ${body.tradeId}`);
    }
    if (p.kind !== "participant" || rec.trade.buyerId !== p.id) throw wrongParticipant(p, rec.trade.buyerId);
    const now = Date.now();
    if (body.setpointW > rec.trade.quantityW) throw badRequest(p, "exceeds_trade_quantity", `the trade covers ${rec.trade.quantityW} W`);
    if (now >= rec.trade.periodEnd) throw new HttpError(409, "trade_period_over", "the trade's period is over");
    const until = Math.min(body.until ?? rec.trade.periodEnd, rec.trade.periodEnd);
    if (until <= now) throw badRequest(p, "until_in_past", "until is in the past");
    const signal: ActivationSignal = { id: `sig:${rec.trade.id}:${now}`, tradeId: rec.trade.id, buyerId: rec.trade.buyerId, setpointW: body.setpointW, from: now, until, receivedAt: now };
    signals.set(rec.trade.id, signal);
    signalHistory.set(signal.id, signal);
    const step = activation.stepTrade(rec.trade, rec.allocations, body.setpointW, now);
    if (body.setpointW > 0) setTradeStatus(rec, "activating");
    persist("signals", signal.id, signal);
    // The 202 promises the signal survives a crash: it is in storage before we answer.
    await flush();
    sendJson(res, 202, { signal, step });
  });
  route("GET", api("/settlements"), "any", async ({ req, res }) => {
    const p = principalOf(req);
    sendJson(res, 200, { settlements: [...settlements.values()].filter((s) => sees(p, s.buyerId)) });
  });

  const register = (ownerId: string, d: RegisterDevice): RegisteredDevice => {
    const prev = devices.get(d.id);
    if (prev && prev.device.ownerId !== ownerId) throw new HttpError(409, "device_taken", `device ${d.id} belongs to another participant`);
    if (!gridNodes.has(d.gridNodeId)) throw new HttpError(400, "grid_node_not_served", `this node serves ${[...gridNodes].join(", ")}`);
    if (d.pMinW > d.pMaxW) throw new HttpError(400, "invalid_limits", "pMinW must not exceed pMaxW");
    const password = newDevicePassword();
    const device: Device = { ...d, ownerId, nodeId, registeredAt: prev?.device.registeredAt ?? Date.now() };
    const rec: DeviceRec = { device, passwordHash: hashDevicePassword(password), online: prev?.online ?? false, powerW: prev?.powerW ?? null, setpointW: prev?.setpointW ?? null, lastSeen: prev?.lastSeen ?? 0 };
    devices.set(d.id, rec);
    persist("devices", d.id, { device, passwordHash: rec.passwordHash });
    return { device, username: deviceUsername(d.id), password, topicRoot, nodePublicKey: signer.publicKey };
  };

  route("POST", api("/devices"), "any", async ({ req, res }) => {
    const p = need(req, "fsp");
    const body = parseCounted(p, registerDevicesSchema, await readJsonBody(req, 1024 * 1024), "body");
    if (p.kind !== "participant") throw new HttpError(403, "forbidden", "FSPs register devices");
    for (const d of body.devices) {
      if (!gridNodes.has(d.gridNodeId)) throw badRequest(p, "grid_node_not_served", `device ${d.id}: this node serves ${[...gridNodes].join(", ")}`);
      if (d.pMinW > d.pMaxW) throw badRequest(p, "invalid_limits", `device ${d.id}: pMinW must not exceed pMaxW`);
      const prev = devices.get(d.id);
      if (prev && prev.device.ownerId !== p.id) throw new HttpError(409, "device_taken", `device ${d.id} belongs to another participant`);
    }
    const registered = body.devices.map((d) => register(p.id, d));
    await flush();
    sendJson(res, 201, { devices: registered });
  });
  route("GET", api("/devices"), "any", async ({ req, res }) => {
    const p = principalOf(req);
    const list = [...devices.values()].filter((d) => sees(p, d.device.ownerId)).map((d) => ({ ...d.device, online: d.online, powerW: d.powerW, setpointW: d.setpointW }));
    sendJson(res, 200, { devices: list });
  });
  route("GET", api("/events"), "any", async ({ req, res }) => {
    need(req, "console");
    const last = req.headers["last-event-id"];
    feed.serve(req, res, Array.isArray(last) ? last[0] : last);
  });
  route("POST", PEER_PATH, "peer", async ({ req, res }) => {
    if (!peerBus) throw new HttpError(404, "not_found", "this node has no peers");
    const result = peerBus.receive(await readJsonBody(req, 16 * 1024 * 1024));
    if (!result.ok) throw new HttpError(result.reason === "malformed" ? 400 : 403, result.reason, `peer envelope refused: ${result.reason}`);
    sendJson(res, 200, { ok: true });
  });

  return { routes, register };
};
