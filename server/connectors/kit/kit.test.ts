import http from "node:http";
import type { AddressInfo } from "node:net";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { AppError, fromUpstream } from "../../errors";
import { metricsRegistry } from "../../metrics";
import { UpstreamHealth } from "../health";
import { createUpstreamClient } from "./http-client";
import { startLiveView } from "./live-view";
import { getConnector, registerConnector, requireConnector, unregisterConnector } from "./registry";
import { createEntityStore } from "./store";
import { UpstreamContractError, UpstreamHttpError, UpstreamUnreachableError } from "./upstream-errors";

/** A real HTTP upstream on port 0 whose answers each test sets, with an SSE feed it can push to. */
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let server: http.Server;
let baseUrl: string;
const routes = new Map<string, Handler>();
const seenPaths: string[] = [];
const feeds = new Set<http.ServerResponse>();

const json = (status: number, body: unknown): Handler => (_req, res) => {
  res.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
};
const push = (event: string, id: string, data: unknown) => {
  for (const res of feeds) res.write(`event: ${event}\nid: ${id}\ndata: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`);
};

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const path = (req.url ?? "").split("?")[0]!;
    seenPaths.push(req.url ?? "");
    if (path === "/events") {
      res.writeHead(200, { "content-type": "text/event-stream" });
      res.write(": hello\n\n");
      feeds.add(res);
      req.on("close", () => feeds.delete(res));
      return;
    }
    const handler = routes.get(`${req.method} ${path}`);
    if (handler) return handler(req, res);
    json(404, { error: "not_found", message: "no such route" })(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  for (const res of feeds) res.end();
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const violations = async (what: string) => {
  const metric = await metricsRegistry().getSingleMetric("upstream_contract_violations_total")?.get();
  return metric?.values.find((v) => v.labels.upstream === "test" && v.labels.what === what)?.value ?? 0;
};

const ZItem = z.object({ id: z.string(), n: z.number().int() });
const client = () => createUpstreamClient({ upstream: "test", label: "Test service", baseUrl, token: "secret-token", credentialsHint: "TEST_TOKEN", timeoutMs: 2000 });
const failure = (p: Promise<unknown>) => p.then(() => null, (e: unknown) => e);

describe("the upstream HTTP client", () => {
  it("returns a body that meets its contract, with the bearer token and URI-encoded path segments", async () => {
    let auth: string | undefined;
    routes.set("GET /items/a%2Fb%20c", (req, res) => {
      auth = req.headers.authorization;
      json(200, { id: "a/b c", n: 1 })(req, res);
    });
    expect(await client().get("/items/:id", { params: { id: "a/b c" }, query: { x: 1, empty: "", none: undefined }, schema: ZItem })).toEqual({ id: "a/b c", n: 1 });
    expect(auth).toBe("Bearer secret-token");
    expect(seenPaths.at(-1)).toBe("/items/a%2Fb%20c?x=1");
  });

  it("never hands back a body that breaks its contract: counted, and thrown as UpstreamContractError", async () => {
    routes.set("GET /items/bad", json(200, { id: "bad", n: "many" }));
    routes.set("GET /items/html", (_req, res) => res.writeHead(200, { "content-type": "text/html" }).end("<html>"));
    const before = await violations("GET /items/:id");
    const error = await failure(client().get("/items/:id", { params: { id: "bad" }, schema: ZItem }));
    expect(error).toBeInstanceOf(UpstreamContractError);
    expect((error as UpstreamContractError).issues[0]).toMatch(/^n: /);
    expect(await failure(client().get("/items/:id", { params: { id: "html" }, schema: ZItem }))).toBeInstanceOf(UpstreamContractError);
    expect(await violations("GET /items/:id")).toBe(before + 2);
  });

  it("types the upstream's refusals, with its fields", async () => {
    routes.set("POST /items", json(422, { error: "invalid_input", message: "bad item", fields: [{ path: "body.n", message: "too big" }] }));
    const error = await failure(client().post("/items", { body: { n: 10 }, schema: ZItem }));
    expect(error).toBeInstanceOf(UpstreamHttpError);
    expect(error).toMatchObject({ status: 422, code: "invalid_input", fields: [{ path: "body.n", message: "too big" }] });
  });

  it("says why nobody answered: refused, or no answer in time", async () => {
    // A port that was just free: nothing listens there.
    const probe = http.createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const refused = await failure(createUpstreamClient({ upstream: "test", baseUrl: `http://127.0.0.1:${port}` }).get("/x", { schema: ZItem }));
    expect(refused).toBeInstanceOf(UpstreamUnreachableError);
    expect((refused as UpstreamUnreachableError).reason).toBe("ECONNREFUSED");
    routes.set("GET /slow", () => {});
    const slow = await failure(client().get("/slow", { schema: ZItem, timeoutMs: 200 }));
    expect((slow as UpstreamUnreachableError).reason).toBe("no answer within 200 ms");
  });

  it("drains an answer it was given no schema for (a 204 DELETE)", async () => {
    routes.set("DELETE /items/x", (_req, res) => res.writeHead(204).end());
    await expect(client().delete("/items/:id", { params: { id: "x" } })).resolves.toBeUndefined();
  });
});

describe("fromUpstream", () => {
  const name = { upstream: "test", label: "Test service", url: "http://test" };
  const code = (error: unknown) => (fromUpstream(error, "Item 7") as AppError).code;

  it("maps every upstream failure to one app code and a sentence", () => {
    expect(fromUpstream(new UpstreamHttpError({ ...name, status: 404, code: "not_found", message: "nope" }), "Item 7")).toMatchObject({ code: "NOT_FOUND", appCode: "NOT_FOUND", message: "Item 7 does not exist." });
    expect(fromUpstream(new UpstreamHttpError({ ...name, status: 400, code: "invalid_input", message: "bad", fields: [{ path: "n", message: "too big" }] }))).toMatchObject({ code: "BAD_REQUEST", field: "n", message: "n: too big" });
    expect(code(new UpstreamHttpError({ ...name, status: 409, code: "conflict", message: "exists" }))).toBe("CONFLICT");
    expect(fromUpstream(new UpstreamHttpError({ ...name, status: 401, code: "unauthorized", message: "no", credentialsHint: "TEST_TOKEN" }))).toMatchObject({ code: "PRECONDITION_FAILED", appCode: "UPSTREAM_REFUSED", message: expect.stringMatching(/TEST_TOKEN/) });
    expect(code(new UpstreamHttpError({ ...name, status: 503, code: "unavailable", message: "db down" }))).toBe("BAD_GATEWAY");
    expect(fromUpstream(new UpstreamUnreachableError({ ...name, reason: "ECONNREFUSED" }))).toMatchObject({ code: "PRECONDITION_FAILED", message: expect.stringMatching(/^Test service unreachable \(ECONNREFUSED\)/) });
    expect(fromUpstream(new UpstreamContractError({ ...name, what: "GET /x", issues: ["n: expected number"] }))).toMatchObject({ code: "BAD_GATEWAY", appCode: "UPSTREAM_CONTRACT" });
    const other = new Error("a bug");
    expect(fromUpstream(other)).toBe(other);
  });

  it("recognises errors thrown by another bundle's copy of the classes (Next's instrumentation vs a route)", async () => {
    // A second module instance, as Next builds one for instrumentation.ts and one per route.
    const path = "./upstream-errors?another-bundle";
    const copy = (await import(/* @vite-ignore */ path)) as typeof import("./upstream-errors");
    expect(copy.UpstreamHttpError).not.toBe(UpstreamHttpError);
    const thrown = new copy.UpstreamHttpError({ ...name, status: 404, code: "not_found", message: "station NOPE-1 not found" });
    expect(thrown).toBeInstanceOf(UpstreamHttpError);
    expect(thrown).not.toBeInstanceOf(UpstreamUnreachableError);
    expect(fromUpstream(thrown, "Station NOPE-1")).toMatchObject({ code: "NOT_FOUND", message: "Station NOPE-1 does not exist." });
    expect(fromUpstream(new copy.UpstreamUnreachableError({ ...name, reason: "ECONNRESET" }))).toMatchObject({ appCode: "UPSTREAM_UNREACHABLE" });
    expect(new Error("plain")).not.toBeInstanceOf(UpstreamHttpError);
  });
});

describe("the entity store", () => {
  it("applies a snapshot as a diff: only what changed is published", () => {
    const store = createEntityStore<{ id: string; v: number }>({ name: "test.items", keyOf: (i) => i.id });
    const published: [string, unknown][] = [];
    store.feed.listen((c) => published.push([c.key, c.data]));
    expect(store.applySnapshot([{ id: "a", v: 1 }, { id: "b", v: 1 }])).toBe(2);
    expect(store.applySnapshot([{ id: "a", v: 1 }, { id: "b", v: 2 }, { id: "c", v: 1 }])).toBe(2);
    expect(store.applySnapshot([{ id: "c", v: 1 }])).toBe(2);
    expect(published).toEqual([
      ["a", { id: "a", v: 1 }],
      ["b", { id: "b", v: 1 }],
      ["b", { id: "b", v: 2 }],
      ["c", { id: "c", v: 1 }],
      ["a", null],
      ["b", null],
    ]);
    expect(store.upsert({ id: "c", v: 1 })).toBe(false);
    expect(store.remove("nope")).toBe(false);
    expect([...store.values()]).toEqual([{ id: "c", v: 1 }]);
  });
});

describe("the live view", () => {
  const ZSnapshot = z.object({ epoch: z.string(), seq: z.number(), items: z.array(ZItem) });
  let snapshot = { epoch: "e1", seq: 0, items: [{ id: "a", n: 1 }] };
  let snapshots = 0;
  const waitFor = async (check: () => boolean, what: string) => {
    for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 25));
    if (!check()) throw new Error(`timed out waiting for ${what}`);
  };

  it("snapshot, then follow; an event that breaks its contract is counted and skipped, the stream goes on; a resync or a new epoch takes a fresh snapshot", async () => {
    routes.set("GET /snapshot", (req, res) => {
      snapshots++;
      json(200, snapshot)(req, res);
    });
    const store = createEntityStore<z.infer<typeof ZItem>>({ name: "test.live", keyOf: (i) => i.id });
    const health = new UpstreamHealth();
    const view = startLiveView({
      id: "testing",
      client: client(),
      health,
      fetchSnapshot: (signal) => client().get("/snapshot", { schema: ZSnapshot, signal }),
      applySnapshot: (s) => {
        store.applySnapshot(s.items);
        return { epoch: s.epoch, seq: s.seq };
      },
      eventsPath: "/events",
      events: { item: { schema: ZItem, apply: (item) => store.upsert(item) } },
      minBackoffMs: 50,
      maxBackoffMs: 100,
    });
    try {
      await view.ready;
      await waitFor(() => health.get("testing")?.state === "connected" && feeds.size === 1, "connected");
      expect(store.get("a")).toEqual({ id: "a", n: 1 });

      const before = await violations("event item");
      push("item", "e1.1", { id: "b", n: "two" });
      push("item", "e1.2", "{not json");
      push("unknown", "e1.3", { whatever: true });
      push("item", "e1.4", { id: "c", n: 3 });
      await waitFor(() => store.has("c"), "the valid event after the bad ones");
      expect(store.has("b")).toBe(false);
      expect(await violations("event item")).toBe(before + 2);
      expect(view.status()).toMatchObject({ rejectedEvents: 2, seq: 4, snapshots: 1 });

      snapshot = { epoch: "e1", seq: 10, items: [{ id: "a", n: 5 }] };
      push("resync", "e1.5", "");
      await waitFor(() => view.status().snapshots === 2 && store.get("a")?.n === 5, "resync");
      expect(store.has("c")).toBe(false);

      // The upstream restarted: its events carry a new epoch, which nothing can replay from.
      snapshot = { epoch: "e2", seq: 3, items: [{ id: "z", n: 1 }] };
      await waitFor(() => feeds.size === 1, "the stream re-opened");
      push("item", "e2.4", { id: "y", n: 1 });
      await waitFor(() => view.status().snapshots === 3 && store.has("z"), "snapshot of the new epoch");
      expect(view.status().epoch).toBe("e2");
      expect(snapshots).toBe(3);
    } finally {
      await view.close();
    }
    expect(health.get("testing")).toBeUndefined();
  });
});

describe("the connector registry", () => {
  it("hands out the running connector of a domain, and refuses clearly when there is none", async () => {
    expect(getConnector("robots")).toBeUndefined();
    const error = (() => {
      try {
        requireConnector("robots");
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(TRPCError);
    expect(error).toMatchObject({ code: "PRECONDITION_FAILED", appCode: "CONNECTOR_NOT_RUNNING", message: expect.stringMatching(/^The robots connector is not running/) });
    const robots = { domain: "robots" as const, close: async () => {} };
    // A bare stand-in: the registry neither knows nor checks what a domain's connector carries.
    registerConnector(robots as never);
    expect(requireConnector("robots")).toBe(robots);
    unregisterConnector("robots");
    expect(getConnector("robots")).toBeUndefined();
  });
});
