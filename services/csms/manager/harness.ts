import { randomBytes } from "node:crypto";
import { connectAsync, type MqttClient } from "mqtt";
import { base64Sha256 } from "../gateway/auth";
import { envelopeSchema, parseStationTopic, type Envelope, type OcppVersion } from "../../../contracts/csms/mqtt";
import { WAIT_MS } from "../testkit";

/** Test helpers for the manager's HTTP API, SSE feed and MQTT traffic (tests only). */

export const api = (base: string, token: string) => {
  const request = async (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(`${base}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
      body: body === undefined ? undefined : typeof body === "string" ? body : JSON.stringify(body),
    });
    const text = await res.text();
    let json: unknown;
    try {
      json = text ? JSON.parse(text) : undefined;
    } catch {
      json = undefined;
    }
    return { status: res.status, json: json as Record<string, any>, text, headers: res.headers }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };
  return {
    request,
    get: (path: string) => request("GET", path),
    post: (path: string, body?: unknown) => request("POST", path, body),
    register: (id: string, password: string) => request("POST", `/api/v0/cs/${encodeURIComponent(id)}`, { securityProfile: 0, base64SHA256Password: base64Sha256(password), invalidUsernameAllowed: false }),
    command: (id: string, action: string, params: unknown = {}, timeoutMs?: number) =>
      request("POST", `/api/v0/stations/${encodeURIComponent(id)}/commands`, { action, params, ...(timeoutMs ? { timeoutMs } : {}) }),
  };
};

export type SseEvent = { id?: string; event: string; data: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

/** A real SSE client over fetch; `events` fills as they arrive. */
export const openSse = async (url: string, token: string, lastEventId?: string) => {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream", ...(lastEventId ? { "last-event-id": lastEventId } : {}) }, signal: controller.signal });
  if (res.status !== 200 || !res.body) throw new Error(`SSE answered ${res.status}`);
  const events: SseEvent[] = [];
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  void (async () => {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let idx;
        while ((idx = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          const e: SseEvent = { event: "message", data: undefined };
          let isEvent = false;
          for (const line of block.split("\n")) {
            if (line.startsWith(":")) continue;
            const colon = line.indexOf(":");
            const field = line.slice(0, colon);
            const value = line.slice(colon + 1).replace(/^ /, "");
            if (field === "id") e.id = value;
            else if (field === "event") e.event = value;
            else if (field === "data") {
              e.data = JSON.parse(value);
              isEvent = true;
            }
          }
          if (isEvent) events.push(e);
        }
      }
    } catch {
      // aborted
    }
  })();
  return { events, close: () => controller.abort() };
};

export type Seen = { topic: string; direction: "in" | "out"; version: OcppVersion; stationId: string; envelope: Envelope };

/** A plain (non-shared) observer of the in and out topics, as a console would run it. */
export const observe = async (mqttUrl: string, prefix: string) => {
  const client: MqttClient = await connectAsync(mqttUrl, { clientId: `observer-${randomBytes(6).toString("hex")}`, reconnectPeriod: 0 });
  const seen: Seen[] = [];
  client.on("message", (topic, payload) => {
    const where = parseStationTopic(prefix, topic);
    if (!where) return;
    try {
      const parsed = envelopeSchema.safeParse(JSON.parse(payload.toString("utf8")));
      if (parsed.success) seen.push({ topic, ...where, envelope: parsed.data as Envelope });
    } catch {
      // malformed on purpose in some tests
    }
  });
  await client.subscribeAsync([`${prefix}/in/+/+`, `${prefix}/out/+/+`]);
  return { client, seen, close: () => client.endAsync(true) };
};

export const metricValue = (text: string, name: string, labels: Record<string, string> = {}) =>
  text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`) || line.startsWith(`${name} `))
    .filter((line) => Object.entries(labels).every(([k, v]) => line.includes(`${k}="${v}"`)))
    .reduce((sum, line) => sum + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);

export { WAIT_MS };
