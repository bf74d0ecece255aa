import { randomBytes } from "node:crypto";
import http from "node:http";
import { performance } from "node:perf_hooks";
import { connectAsync, type MqttClient } from "mqtt";
import { Histogram } from "./hist";
import type { StatusSend } from "./load";
import { state } from "./topology";

/**
 * Where bench:csms sees status changes arrive: the manager's SSE feed (what the console
 * follows) or a plain MQTT subscriber to `in/`, and the matching of each recorded send to its
 * first arrival.
 */

export const now = () => performance.timeOrigin + performance.now();

// ---------- SSE: the console's view of the stations ----------

export type Arrival = { st: string; t: number };
export const openViewFeed = (baseUrl: string, token: string) => {
  const arrivals = new Map<string, Arrival[]>();
  const known = new Map<string, Map<string, string>>();
  const counts = { events: 0, station: 0, transaction: 0, meter: 0, resync: 0, bytes: 0, parseErrors: 0 };
  let req: http.ClientRequest | undefined;
  let connected = false;
  let error: string | undefined;

  const onEvent = (event: string, data: string, t: number) => {
    counts.events += 1;
    if (event === "resync") counts.resync += 1;
    if (event !== "station") {
      if (event === "transaction") counts.transaction += 1;
      else if (event === "meter") counts.meter += 1;
      return;
    }
    counts.station += 1;
    let view: { id: string; connectors?: { evseId: number; connectorId: number; status: string }[] };
    try {
      view = JSON.parse(data) as typeof view;
    } catch {
      counts.parseErrors += 1;
      return;
    }
    let mine = known.get(view.id);
    if (!mine) known.set(view.id, (mine = new Map()));
    for (const c of view.connectors ?? []) {
      const k = `${c.evseId}/${c.connectorId}`;
      if (mine.get(k) === c.status) continue;
      mine.set(k, c.status);
      const key = `${view.id}|${k}`;
      let list = arrivals.get(key);
      if (!list) arrivals.set(key, (list = []));
      list.push({ st: c.status, t });
    }
  };

  const ready = new Promise<void>((resolve, reject) => {
    req = http.get(`${baseUrl}/api/v0/events`, { headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" } }, (res) => {
      if (res.statusCode !== 200) {
        error = `SSE answered ${res.statusCode}`;
        res.resume();
        return reject(new Error(error));
      }
      connected = true;
      resolve();
      res.setEncoding("utf8");
      let buffer = "";
      res.on("data", (chunk: string) => {
        const t = now();
        counts.bytes += chunk.length;
        buffer += chunk;
        let idx;
        while ((idx = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, idx);
          buffer = buffer.slice(idx + 2);
          let event = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event: ")) event = line.slice(7);
            else if (line.startsWith("data: ")) data += line.slice(6);
          }
          if (data) onEvent(event, data, t);
        }
      });
      res.on("end", () => {
        connected = false;
        if (!state.shuttingDown) error = "SSE stream ended during the run";
      });
      res.on("error", () => (connected = false));
    });
    req.on("error", (e) => {
      error = e.message;
      reject(e);
    });
  });
  return {
    ready,
    arrivals,
    known,
    counts,
    state: () => ({ connected, error }),
    close: () => req?.destroy(),
  };
};

/** Plain MQTT subscriber to `<prefix>/in/+/+`: station → broker → observer, for --observe-mqtt. */
export const openMqttObserver = async (url: string, prefix: string) => {
  const arrivals = new Map<string, Arrival[]>();
  const client: MqttClient = await connectAsync(url, { clientId: `bench-observer-${randomBytes(4).toString("hex")}`, reconnectPeriod: 0 });
  (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  client.on("message", (topic, payload) => {
    const t = now();
    const parts = topic.split("/");
    const stationId = parts.at(-1)!;
    const version = parts.at(-2);
    let env: { type?: number; action?: string; request?: Record<string, unknown> };
    try {
      env = JSON.parse(payload.toString("utf8")) as typeof env;
    } catch {
      return;
    }
    if (env.type !== 2 || env.action !== "StatusNotification" || !env.request) return;
    const r = env.request;
    const k = version === "ocpp1.6" ? `${String(r.connectorId)}/${String(r.connectorId)}` : `${String(r.evseId)}/${String(r.connectorId)}`;
    const st = String(version === "ocpp1.6" ? r.status : r.connectorStatus);
    const key = `${stationId}|${k}`;
    let list = arrivals.get(key);
    if (!list) arrivals.set(key, (list = []));
    list.push({ st, t });
  });
  await client.subscribeAsync(`${prefix}/in/+/+`, { qos: 0 });
  return { arrivals, close: () => client.endAsync(true) };
};

/** Pairs each recorded status change with the first matching arrival at or after it. */
export const matchLatencies = (sends: StatusSend[], arrivals: Map<string, Arrival[]>) => {
  const hist = new Histogram();
  let missing = 0;
  const byKey = new Map<string, StatusSend[]>();
  for (const s of sends) {
    const key = `${s.s}|${s.k}`;
    let list = byKey.get(key);
    if (!list) byKey.set(key, (list = []));
    list.push(s);
  }
  // Timestamps come from two processes' performance.timeOrigin; allow 2 ms of skew.
  const slackMs = 2;
  for (const [key, list] of byKey) {
    list.sort((a, b) => a.t - b.t);
    const arr = arrivals.get(key) ?? [];
    let j = 0;
    for (const s of list) {
      while (j < arr.length && (arr[j].t < s.t - slackMs || arr[j].st !== s.st)) j++;
      if (j >= arr.length) {
        missing += 1;
        continue;
      }
      hist.record(Math.max(0, arr[j].t - s.t));
      j++;
    }
  }
  return { hist, missing };
};


export type ViewFeed = ReturnType<typeof openViewFeed>;

/** `--manager inline` has no console feed: an empty stand-in with the same shape. */
export const noViewFeed = (): ViewFeed => ({
  ready: Promise.resolve(),
  arrivals: new Map<string, Arrival[]>(),
  known: new Map<string, Map<string, string>>(),
  counts: { events: 0, station: 0, transaction: 0, meter: 0, resync: 0, bytes: 0, parseErrors: 0 },
  state: () => ({ connected: false, error: "no feed (inline responder)" as string | undefined }),
  close: () => undefined,
});
