import { io, type Socket } from "socket.io-client";
import WebSocket from "ws";
import { createTestDb, type TestDb } from "../../lib/testing/db";
import { logger } from "../../lib/log";
import { BRIDGE_PATH, INTERNAL_PATH, type RmfPermission } from "../../contracts/rmf";
import { signToken } from "./lib/jwt";
import { startMain, type MainOptions, type RmfMain } from "./main/server";

/** Test helpers for RMF main and proxies: real databases, real sockets, nothing mocked. */
export const SECRET = "test-jwt-secret-0123456789abcdef";
export const ISSUER = "test-issuer";
export const INTERNAL_TOKEN = "test-internal-token-0123456789";
export const ALL: RmfPermission[] = ["task_read", "task_submit", "task_cancel", "door_control", "lift_control"];

export const token = (permissions: RmfPermission[] = ALL, username = "tester") => signToken({ secret: SECRET, issuer: ISSUER, username, permissions });

export const startTestMain = async (overrides: Partial<MainOptions> & { testDb?: TestDb } = {}) => {
  const testDb = overrides.testDb ?? (await createTestDb());
  const main = await startMain({ port: 0, db: testDb.db, jwtSecret: SECRET, jwtIssuer: ISSUER, internalToken: INTERNAL_TOKEN, log: logger(), flushIntervalMs: 50, ...overrides });
  return { main, testDb };
};

/** Polls until `check` holds; the wait is a safety net, never an assertion about speed. */
export const eventually = async (check: () => boolean | Promise<boolean>, what = "condition", ms = 10_000) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export type TestClient = {
  socket: Socket;
  /** Every event received, in order. */
  events: { event: string; data: unknown }[];
  subscribe: (room: string) => Promise<{ success: boolean; error: string }>;
  unsubscribe: (room: string) => Promise<{ success: boolean; error: string }>;
  of: (room: string) => unknown[];
  close: () => void;
};

/** A socket.io client as the console connector would run it. */
export const connectClient = async (url: string, jwt: string | undefined): Promise<TestClient> => {
  const socket = io(url, { transports: ["websocket"], auth: jwt === undefined ? {} : { token: jwt }, reconnection: false, forceNew: true });
  const events: TestClient["events"] = [];
  socket.onAny((event: string, data: unknown) => events.push({ event, data }));
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", () => resolve());
    socket.once("connect_error", (e) => reject(e));
  });
  const ask = (what: "subscribe" | "unsubscribe", room: string) => socket.timeout(5000).emitWithAck(what, { room }) as Promise<{ success: boolean; error: string }>;
  return {
    socket,
    events,
    subscribe: (room) => ask("subscribe", room),
    unsubscribe: (room) => ask("unsubscribe", room),
    of: (room) => events.filter((e) => e.event === room).map((e) => e.data),
    close: () => void socket.close(),
  };
};

/** A raw websocket to `/_internal` or `/_bridge`, collecting what main answers. */
export const openFeed = async (base: string, path: typeof INTERNAL_PATH | typeof BRIDGE_PATH, tokenValue = INTERNAL_TOKEN) => {
  const ws = new WebSocket(`${base.replace(/^http/, "ws")}${path}`, { headers: { authorization: `Bearer ${tokenValue}` } });
  const received: Record<string, unknown>[] = [];
  ws.on("message", (d) => received.push(JSON.parse(d.toString()) as Record<string, unknown>));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
    ws.once("unexpected-response", (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
  });
  return {
    ws,
    received,
    send: (frame: unknown) => ws.send(typeof frame === "string" ? frame : JSON.stringify(frame)),
    close: () => ws.close(),
  };
};

/** A tiny stand-in for RMF on the bridge: answers task_api calls with `answer` (or never, when it returns undefined). */
export const startTestBridge = async (main: Pick<RmfMain, "url">, answer: (msg: Record<string, unknown>) => Record<string, unknown> | undefined) => {
  const feed = await openFeed(main.url, BRIDGE_PATH);
  const calls: Record<string, unknown>[] = [];
  const published: { topic: string; msg: unknown }[] = [];
  feed.ws.on("message", (d) => {
    const f = JSON.parse(d.toString()) as { op: string; id: string; service: string; topic: string; msg: unknown; args: { json_msg: Record<string, unknown> } };
    if (f.op === "publish") published.push({ topic: f.topic, msg: f.msg });
    if (f.op !== "call_service") return;
    calls.push(f.args.json_msg);
    const a = answer(f.args.json_msg);
    if (a) feed.send({ op: "service_response", id: f.id, service: f.service, result: true, values: { json_msg: a } });
  });
  return { ...feed, calls, published, publish: (topic: string, msg: unknown) => feed.send({ op: "publish", topic, msg }) };
};

export const http = (base: string, jwt?: string) => {
  const request = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { ...(jwt ? { authorization: `Bearer ${jwt}` } : {}), ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, json: (text ? JSON.parse(text) : undefined) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return { get: (path: string) => request("GET", path), post: (path: string, body?: unknown) => request("POST", path, body) };
};
