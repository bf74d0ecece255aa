import type http from "node:http";
import { Prisma, type PrismaClient } from "@prisma/client";
import type pino from "pino";
import type { Registry } from "prom-client";
import { z } from "zod";
import { createOpsHandler } from "../../lib/ops";
import { bearerToken, createRouter, HttpError, parseInput as parse, readJsonBody as readBody, sameSecret, sendJson } from "../../lib/http";
import { chargeStationAuthSchema, isValidStationId, OCPP_VERSIONS } from "../../../contracts/csms/mqtt";
import { isUniqueViolation } from "./db";
import { ZCommandBody as commandBodySchema } from "../../../contracts/csms/commands";
import type { CommandRecord, ManagerCommandResult } from "../../../contracts/csms/api";
import { CommandConflictError, type CommandBody } from "./command-records";
import { CommandInputError } from "./commands";
import type { Feed } from "./feed";
import type { StationView } from "./manager";
import { txView } from "./station-cache";

/** The HTTP API of API.md on node:http: a tiny router, zod on every input, JSON errors. */

export type ApiContext = {
  db: PrismaClient;
  log: pino.Logger;
  feed: Feed;
  apiToken: string;
  gatewayToken?: string;
  openRegistration: boolean;
  registry: Registry;
  /** When set, /metrics needs `Authorization: Bearer <token>`. */
  metricsToken?: string;
  mqttConnected: () => boolean;
  flush: () => Promise<void>;
  /** How many stations matching `where` are (not) online right now. */
  countOnline: (where: Prisma.CsmsStationWhereInput, online: boolean) => Promise<number>;
  loadViews: (filter?: { ids?: string[]; where?: Prisma.CsmsStationWhereInput; after?: string; take?: number }) => Promise<{ view: StationView }[]>;
  getStation: (id: string) => Promise<{ view: StationView; registeredAt: Date | null } | undefined>;
  sendCommand: (id: string, body: CommandBody) => Promise<ManagerCommandResult | undefined>;
  getCommand: (commandId: string) => Promise<CommandRecord | undefined>;
  onRegistered: (id: string) => void;
  /** A token was created, changed or deleted: the manager's token cache must forget it. */
  onTokenChanged: (idTag: string) => void;
};

const b64 = (s: string) => Buffer.from(s, "utf8").toString("base64url");
const unb64 = (s: string) => Buffer.from(s, "base64url").toString("utf8");

/** Stations read from the database per query when listing or streaming. */
const STATION_CHUNK = 1000;
const limit = (max: number, dflt: number) => z.coerce.number().int().min(1).max(max).default(dflt);
const bool = z.enum(["true", "false"]).transform((v) => v === "true");
const cursor = z.string().min(1).max(500);

const stationsQuery = z.strictObject({
  q: z.string().max(100).optional(),
  online: bool.optional(),
  protocol: z.enum(OCPP_VERSIONS).optional(),
  status: z.string().min(1).max(40).optional(),
  limit: limit(1000, 100),
  cursor: cursor.optional(),
});
const messagesQuery = z.strictObject({ limit: limit(1000, 100), cursor: z.string().regex(/^\d{1,19}$/).optional(), format: z.enum(["json", "csv"]).default("json") });
const transactionsQuery = z.strictObject({ stationId: z.string().min(1).max(48).optional(), active: bool.optional(), limit: limit(1000, 100), cursor: cursor.optional() });
const tokensQuery = z.strictObject({ q: z.string().max(100).optional(), limit: limit(1000, 100), cursor: cursor.optional() });

const idTag = z.string().min(1).max(36).regex(/^[\x21-\x7e]+$/, "printable ASCII without spaces");
const tokenStatus = z.enum(["Accepted", "Blocked", "Expired", "Invalid"]);
const isoDate = z.iso.datetime({ offset: true }).transform((s) => new Date(s));
const tokenCreate = z.strictObject({ idTag, status: tokenStatus.default("Accepted"), expiresAt: isoDate.nullable().optional(), note: z.string().max(500).nullable().optional() });
const tokenPatch = z
  .strictObject({ status: tokenStatus.optional(), expiresAt: isoDate.nullable().optional(), note: z.string().max(500).nullable().optional() })
  .refine((v) => Object.keys(v).length > 0, "give at least one of status, expiresAt, note");
const registration = chargeStationAuthSchema.extend({
  base64SHA256Password: z
    .string()
    .refine((s) => /^[A-Za-z0-9+/]{43}=$/.test(s) && Buffer.from(s, "base64").length === 32, "must be the base64 of a 32-byte SHA-256 digest")
    .optional(),
});

type TokenRow = Prisma.CsmsTokenGetPayload<object>;
const tokenView = (t: TokenRow) => ({ idTag: t.idTag, status: t.status, expiresAt: t.expiresAt?.toISOString() ?? null, note: t.note, updatedAt: t.updatedAt.toISOString() });

const csvCell = (v: unknown) => {
  let s = v === null || v === undefined ? "" : typeof v === "string" ? v : JSON.stringify(v);
  // Spreadsheet formula injection: a cell must not start with = + - @.
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
};

type Auth = "api" | "gateway" | "registration";

export const createApi = (c: ApiContext) => {
  const authorized = (req: http.IncomingMessage, auth: Auth) => {
    switch (auth) {
      case "api":
        return sameSecret(bearerToken(req), c.apiToken);
      case "registration":
        return c.openRegistration || sameSecret(bearerToken(req), c.apiToken);
      case "gateway": {
        if (!c.gatewayToken) return true;
        const token = req.headers["x-gateway-token"];
        return sameSecret(Array.isArray(token) ? token[0] : token, c.gatewayToken);
      }
    }
  };
  const { route, handle } = createRouter<Auth>({
    log: c.log,
    authorize: authorized,
    unauthorizedMessage: (auth) => (auth === "gateway" ? "missing or wrong x-gateway-token" : "missing or wrong bearer token"),
  });

  const stationId = (raw: string) => {
    if (!isValidStationId(raw)) throw new HttpError(400, "invalid_station_id", "station ids match [A-Za-z0-9._:@-]{1,48}");
    return raw;
  };

  // ---------- MaEVe-compatible ----------

  route("POST", "/api/v0/cs/:id", "registration", async ({ req, res, params }) => {
    const id = stationId(params[0]);
    const body = parse(registration, await readBody(req), "body");
    if (body.securityProfile < 2 && !body.base64SHA256Password) throw new HttpError(400, "invalid_input", "base64SHA256Password is required for security profiles 0 and 1", [{ path: "body.base64SHA256Password", message: "required" }]);
    const data = { passwordHash: body.base64SHA256Password ?? null, securityProfile: body.securityProfile, invalidUsernameAllowed: body.invalidUsernameAllowed ?? false };
    await c.db.csmsStation.upsert({ where: { id }, create: { id, ...data }, update: data });
    c.onRegistered(id);
    sendJson(res, 201, {});
  });
  route("GET", "/api/v0/cs/:id/auth", "gateway", async ({ res, params }) => {
    const id = stationId(params[0]);
    const row = await c.db.csmsStation.findUnique({ where: { id }, select: { passwordHash: true, securityProfile: true, invalidUsernameAllowed: true } });
    if (!row || (!row.passwordHash && row.securityProfile < 2)) throw new HttpError(404, "not_found", `station ${id} is not registered`);
    sendJson(res, 200, {
      securityProfile: row.securityProfile,
      ...(row.passwordHash ? { base64SHA256Password: row.passwordHash } : {}),
      invalidUsernameAllowed: row.invalidUsernameAllowed,
    });
  });

  // ---------- stations ----------

  route("GET", "/api/v0/stations", "api", async ({ res, query }) => {
    const q = parse(stationsQuery, query, "query");
    const where: Prisma.CsmsStationWhereInput = {
      ...(q.q
        ? {
            OR: (["id", "vendor", "model", "serialNumber"] as const).map((field) => ({ [field]: { contains: q.q, mode: "insensitive" as const } })),
          }
        : {}),
      ...(q.protocol ? { protocol: q.protocol } : {}),
      ...(q.status ? { connectors: { some: { status: q.status } } } : {}),
    };
    // A page is read from the database in id order, a chunk at a time, never the whole fleet.
    let after = q.cursor ? unb64(q.cursor) : undefined;
    const items: StationView[] = [];
    let more = false;
    for (;;) {
      const chunk = (await c.loadViews({ where, after, take: STATION_CHUNK })).map((v) => v.view);
      for (const v of chunk) {
        if (q.online !== undefined && v.online !== q.online) continue;
        if (items.length === q.limit) {
          more = true;
          break;
        }
        items.push(v);
      }
      if (more || chunk.length < STATION_CHUNK) break;
      after = chunk[chunk.length - 1].id;
    }
    // The total without the online filter is a count; with it, online is computed per station.
    const total = q.online === undefined ? await c.db.csmsStation.count({ where }) : await c.countOnline(where, q.online);
    sendJson(res, 200, { items, nextCursor: more ? b64(items[items.length - 1].id) : null, total });
  });
  route("GET", "/api/v0/stations/snapshot", "api", async ({ res }) => {
    // The position is taken first: an event raced into the snapshot is replayed, never lost.
    const seq = c.feed.seq();
    // Streamed a chunk at a time, so 50,000 stations are never one array in memory.
    res.writeHead(200, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
    res.write(`{"epoch":${JSON.stringify(c.feed.epoch)},"seq":${seq},"stations":[`);
    let after: string | undefined;
    let first = true;
    for (;;) {
      let chunk: StationView[];
      try {
        chunk = (await c.loadViews({ after, take: STATION_CHUNK })).map((v) => v.view);
      } catch (error) {
        // Headers are out: a cut-off body (invalid JSON) is the only honest signal left.
        c.log.warn({ err: (error as Error).message }, "snapshot stream failed");
        res.destroy(error as Error);
        return;
      }
      if (chunk.length) {
        const text = chunk.map((v) => JSON.stringify(v)).join(",");
        if (!res.write(`${first ? "" : ","}${text}`)) await new Promise((r) => res.once("drain", r));
        first = false;
      }
      if (chunk.length < STATION_CHUNK || res.destroyed) break;
      after = chunk[chunk.length - 1].id;
    }
    res.end("]}");
  });
  route("GET", "/api/v0/stations/:id", "api", async ({ res, params }) => {
    const id = stationId(params[0]);
    const found = await c.getStation(id);
    if (!found) throw new HttpError(404, "not_found", `station ${id} not found`);
    const rows = await c.db.csmsStationConfig.findMany({ where: { stationId: id }, orderBy: [{ key: "asc" }, { component: "asc" }, { variable: "asc" }] });
    const keys = rows.filter((r) => r.key !== "");
    const vars = rows.filter((r) => r.key === "");
    sendJson(res, 200, {
      ...found.view,
      registeredAt: found.registeredAt?.toISOString() ?? null,
      configuration: keys.length ? keys.map((r) => ({ key: r.key, value: r.value, readonly: r.readonly ?? false })) : null,
      variables: vars.length ? vars.map((r) => ({ component: r.component, variable: r.variable, value: r.value })) : null,
    });
  });
  route("GET", "/api/v0/stations/:id/messages", "api", async ({ res, params, query }) => {
    const id = stationId(params[0]);
    const q = parse(messagesQuery, query, "query");
    if (!(await c.db.csmsStation.findUnique({ where: { id }, select: { id: true } }))) throw new HttpError(404, "not_found", `station ${id} not found`);
    await c.flush();
    const rows = await c.db.csmsMessageLog.findMany({
      where: { stationId: id, ...(q.cursor ? { id: { lt: BigInt(q.cursor) } } : {}) },
      orderBy: { id: "desc" },
      take: q.limit + 1,
    });
    const page = rows.slice(0, q.limit);
    const items = page.map((r) => ({
      id: r.id.toString(),
      at: r.at.toISOString(),
      direction: r.direction,
      type: r.type,
      action: r.action,
      messageId: r.messageId,
      payload: r.payload,
      errorCode: r.errorCode,
    }));
    const nextCursor = rows.length > q.limit ? page[page.length - 1].id.toString() : null;
    if (q.format === "csv") {
      const header = ["id", "at", "direction", "type", "action", "messageId", "errorCode", "payload"];
      const lines = [header.join(","), ...items.map((m) => [m.id, m.at, m.direction, m.type, m.action, m.messageId, m.errorCode, m.payload].map(csvCell).join(","))];
      const text = `${lines.join("\r\n")}\r\n`;
      res.writeHead(200, {
        "content-type": "text/csv; charset=utf-8",
        "content-disposition": `attachment; filename="${id.replaceAll(/[^A-Za-z0-9._-]/g, "_")}-messages.csv"`,
        "cache-control": "no-store",
        ...(nextCursor ? { "x-next-cursor": nextCursor } : {}),
      });
      res.end(text);
      return;
    }
    sendJson(res, 200, { items, nextCursor });
  });
  route("POST", "/api/v0/stations/:id/commands", "api", async ({ req, res, params }) => {
    const id = stationId(params[0]);
    const body = parse(commandBodySchema, await readBody(req), "body");
    let result: ManagerCommandResult | undefined;
    try {
      result = await c.sendCommand(id, body);
    } catch (error) {
      if (error instanceof CommandInputError) throw new HttpError(400, "invalid_input", error.message, error.fields);
      if (error instanceof CommandConflictError) throw new HttpError(409, "conflict", error.message);
      throw error;
    }
    if (!result) throw new HttpError(404, "not_found", `station ${id} not found`);
    sendJson(res, 200, result);
  });
  route("GET", "/api/v0/commands/:commandId", "api", async ({ res, params }) => {
    const commandId = parse(z.uuid("must be a UUID"), params[0], "commandId");
    const record = await c.getCommand(commandId);
    if (!record) throw new HttpError(404, "not_found", `no command ${commandId} is known here`);
    sendJson(res, 200, record);
  });

  // ---------- transactions ----------

  route("GET", "/api/v0/transactions", "api", async ({ res, query }) => {
    const q = parse(transactionsQuery, query, "query");
    await c.flush();
    const where: Prisma.CsmsTransactionWhereInput = {
      ...(q.stationId ? { stationId: q.stationId } : {}),
      ...(q.active !== undefined ? { active: q.active } : {}),
    };
    let after: { s: Date; i: string } | undefined;
    if (q.cursor) {
      try {
        const parsed = JSON.parse(unb64(q.cursor)) as { s: string; i: string };
        after = { s: new Date(parsed.s), i: String(parsed.i) };
        if (Number.isNaN(after.s.getTime())) throw new Error("bad date");
      } catch {
        throw new HttpError(400, "invalid_input", "invalid cursor", [{ path: "query.cursor", message: "not a cursor from this API" }]);
      }
    }
    const [rows, total] = await Promise.all([
      c.db.csmsTransaction.findMany({
        where: after ? { AND: [where, { OR: [{ startedAt: { lt: after.s } }, { startedAt: after.s, id: { lt: after.i } }] }] } : where,
        orderBy: [{ startedAt: "desc" }, { id: "desc" }],
        take: q.limit + 1,
      }),
      c.db.csmsTransaction.count({ where }),
    ]);
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    sendJson(res, 200, { items: page.map(txView), nextCursor: rows.length > q.limit ? b64(JSON.stringify({ s: last.startedAt.toISOString(), i: last.id })) : null, total });
  });
  route("GET", "/api/v0/transactions/:id", "api", async ({ res, params }) => {
    const id = params[0];
    if (id.length > 100) throw new HttpError(400, "invalid_input", "transaction id too long");
    await c.flush();
    const row = await c.db.csmsTransaction.findUnique({ where: { id } });
    if (!row) throw new HttpError(404, "not_found", `transaction ${id} not found`);
    const samples = await c.db.csmsMeterSample.findMany({ where: { transactionId: id }, orderBy: [{ at: "asc" }, { id: "asc" }], take: 20_000 });
    sendJson(res, 200, {
      ...txView(row),
      samples: samples.map((s) => ({
        at: s.at.toISOString(),
        powerW: s.powerW,
        energyWh: s.energyWh,
        socPct: s.socPct,
        // Session energy, what a chart plots: the register minus the session's start.
        sessionEnergyWh: s.energyWh !== null && row.meterStartWh !== null ? Math.max(0, s.energyWh - row.meterStartWh) : null,
      })),
    });
  });

  // ---------- tokens ----------

  route("GET", "/api/v0/tokens", "api", async ({ res, query }) => {
    const q = parse(tokensQuery, query, "query");
    const where: Prisma.CsmsTokenWhereInput = q.q ? { idTag: { contains: q.q, mode: "insensitive" } } : {};
    const after = q.cursor ? unb64(q.cursor) : undefined;
    const [rows, total] = await Promise.all([
      c.db.csmsToken.findMany({ where: after !== undefined ? { AND: [where, { idTag: { gt: after } }] } : where, orderBy: { idTag: "asc" }, take: q.limit + 1 }),
      c.db.csmsToken.count({ where }),
    ]);
    const page = rows.slice(0, q.limit);
    sendJson(res, 200, { items: page.map(tokenView), nextCursor: rows.length > q.limit ? b64(page[page.length - 1].idTag) : null, total });
  });
  route("POST", "/api/v0/tokens", "api", async ({ req, res }) => {
    const body = parse(tokenCreate, await readBody(req), "body");
    try {
      const row = await c.db.csmsToken.create({ data: { idTag: body.idTag, status: body.status, expiresAt: body.expiresAt ?? null, note: body.note ?? null } });
      c.onTokenChanged(row.idTag);
      sendJson(res, 201, tokenView(row));
    } catch (error) {
      if (isUniqueViolation(error)) throw new HttpError(409, "conflict", `token ${body.idTag} already exists`);
      throw error;
    }
  });
  route("PATCH", "/api/v0/tokens/:idTag", "api", async ({ req, res, params }) => {
    const tag = parse(idTag, params[0], "idTag");
    const body = parse(tokenPatch, await readBody(req), "body");
    try {
      const row = await c.db.csmsToken.update({ where: { idTag: tag }, data: body });
      c.onTokenChanged(tag);
      sendJson(res, 200, tokenView(row));
    } catch (error) {
      if (error instanceof Prisma.PrismaClientKnownRequestError && error.code === "P2025") throw new HttpError(404, "not_found", `token ${tag} not found`);
      throw error;
    }
  });
  route("DELETE", "/api/v0/tokens/:idTag", "api", async ({ res, params }) => {
    const tag = parse(idTag, params[0], "idTag");
    const { count } = await c.db.csmsToken.deleteMany({ where: { idTag: tag } });
    c.onTokenChanged(tag);
    if (!count) throw new HttpError(404, "not_found", `token ${tag} not found`);
    res.writeHead(204).end();
  });

  // ---------- live feed ----------

  route("GET", "/api/v0/events", "api", async ({ req, res, query }) => {
    const header = req.headers["last-event-id"];
    c.feed.serve(req, res, (Array.isArray(header) ? header[0] : header) ?? query.lastEventId);
  });

  // ---------- operations: /health (database and MQTT) and /metrics ----------

  const ops = createOpsHandler({
    registry: c.registry,
    metricsToken: c.metricsToken,
    check: async () => {
      const dbOk = await c.db.$queryRawUnsafe("SELECT 1").then(
        () => true,
        () => false,
      );
      const mqttOk = c.mqttConnected();
      return { ok: dbOk && mqttOk, db: dbOk ? "up" : "down", mqtt: mqttOk ? "connected" : "disconnected" };
    },
  });

  return (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (!ops(req, res)) handle(req, res);
  };
};
