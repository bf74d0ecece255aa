import { randomBytes } from "node:crypto";
import net, { type AddressInfo } from "node:net";
import { Aedes } from "aedes";
import { connectAsync, type MqttClient } from "mqtt";
import { csmsTopics, envelopeSchema, parseStationTopic, type Envelope, type OcppVersion } from "../../contracts/csms/mqtt";

/**
 * Test helpers for the CSMS: a real MQTT broker and a tiny, real "manager" that speaks the
 * gateway's MQTT contract. Nothing here is a mock of the gateway's wire; it is the wire.
 * Not for production: the manager answers everything "Accepted".
 */

export const WAIT_MS = 10_000;

/** An aedes broker on a free port of 127.0.0.1. */
export const startTestBroker = async () => {
  const broker = await Aedes.createBroker();
  // No Nagle: request/response traffic would otherwise sit in ~40 ms delayed-ACK waits.
  const server = net.createServer({ noDelay: true }, broker.handle);
  broker.on("clientError", () => {});
  broker.on("connectionError", () => {});
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    close: async () => {
      await new Promise<void>((resolve) => broker.close(() => resolve()));
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

/** Polls until `check` holds; the wait is a safety net, never an assertion about speed. */
export const eventually = async (check: () => boolean | Promise<boolean>, what = "condition", ms = WAIT_MS) => {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what} not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

export type Recorded = { topic: string; direction: "in" | "out"; version: OcppVersion; stationId: string; envelope: Envelope; raw: string };
type Answer = Record<string, unknown> | { error: string; description?: string } | "ignore";
export type ManagerHandler = (call: { stationId: string; version: OcppVersion; action: string; request: Record<string, unknown> }) => Answer | Promise<Answer> | undefined;

let txCounter = 1;
/** Plausible CSMS answers for every station CALL the simulators send. */
export const defaultAnswer = (version: OcppVersion, action: string, request: Record<string, unknown>, heartbeatInterval = 1): Answer => {
  const now = new Date().toISOString();
  switch (action) {
    case "BootNotification":
      return { status: "Accepted", currentTime: now, interval: heartbeatInterval };
    case "Heartbeat":
      return { currentTime: now };
    case "Authorize":
      return version === "ocpp1.6" ? { idTagInfo: { status: "Accepted" } } : { idTokenInfo: { status: "Accepted" } };
    case "StartTransaction":
      return { transactionId: txCounter++, idTagInfo: { status: "Accepted" } };
    case "StopTransaction":
      return request.idTag ? { idTagInfo: { status: "Accepted" } } : {};
    case "TransactionEvent":
      return request.idToken ? { idTokenInfo: { status: "Accepted" } } : {};
    case "DataTransfer":
      return { status: "Accepted" };
    default:
      return {};
  }
};

export type TestManager = {
  /** Every envelope seen on the in (and, with observeOut, out) topics, in arrival order. */
  messages: Recorded[];
  /** Station CALLs seen on `in`. */
  calls: (stationId?: string, action?: string) => (Recorded & { envelope: { type: 2; action: string; request: Record<string, unknown> } })[];
  /** Publishes a CALL on `out` and resolves with the merged answer from `in`. */
  call: (stationId: string, version: OcppVersion, action: string, request: Record<string, unknown>, id?: string) => Promise<Envelope>;
  /** Publishes raw bytes on a topic (for malformed-payload tests). */
  publishRaw: (topic: string, payload: string) => Promise<void>;
  /** Resolves with the first recorded message (past or future) that `accept` likes. */
  waitFor: (accept: (m: Recorded) => boolean, what?: string) => Promise<Recorded>;
  /** Overrides the answer for station CALLs; return undefined to fall back to the default. */
  setHandler: (handler?: ManagerHandler) => void;
  client: MqttClient;
  close: () => Promise<void>;
};

export const startTestManager = async ({
  mqttUrl,
  prefix = "cs",
  heartbeatInterval = 1,
  observeOut = false,
}: {
  mqttUrl: string;
  prefix?: string;
  heartbeatInterval?: number;
  /**
   * Also record the `out` topics. Off by default: a manager that receives its own answers
   * makes Mosquitto (without set_tcp_nodelay) hold the second write for a delayed ACK, which
   * adds ~25 ms to every round trip. A real manager subscribes to `in` only.
   */
  observeOut?: boolean;
}): Promise<TestManager> => {
  const topics = csmsTopics(prefix);
  const client = await connectAsync(mqttUrl, { clientId: `test-manager-${randomBytes(6).toString("hex")}`, reconnectPeriod: 0 });
  const messages: Recorded[] = [];
  const waiters = new Set<{ accept: (m: Recorded) => boolean; resolve: (m: Recorded) => void }>();
  let handler: ManagerHandler | undefined;

  client.on("message", (topic, payload) => {
    const where = parseStationTopic(prefix, topic);
    if (!where) return;
    let envelope: Envelope;
    try {
      const parsed = envelopeSchema.safeParse(JSON.parse(payload.toString("utf8")));
      if (!parsed.success) return;
      envelope = parsed.data as Envelope;
    } catch {
      return;
    }
    const rec: Recorded = { topic, ...where, envelope, raw: payload.toString("utf8") };
    messages.push(rec);
    for (const w of waiters) {
      if (!w.accept(rec)) continue;
      waiters.delete(w);
      w.resolve(rec);
    }
    if (where.direction !== "in" || envelope.type !== 2) return;
    const { action, id, request } = envelope;
    void (async () => {
      const answer = (await handler?.({ stationId: where.stationId, version: where.version, action, request })) ?? defaultAnswer(where.version, action, request, heartbeatInterval);
      if (answer === "ignore") return;
      const out =
        "error" in answer && typeof answer.error === "string"
          ? { type: 4, id, error_code: answer.error, error_description: answer.description ?? "" }
          : { type: 3, id, response: answer };
      await client.publishAsync(topics.out(where.version, where.stationId), JSON.stringify(out));
    })();
  });
  (client.stream as unknown as { setNoDelay?: (on: boolean) => void }).setNoDelay?.(true);
  await client.subscribeAsync(observeOut ? [topics.inWildcard, topics.outWildcard] : [topics.inWildcard]);

  const waitFor = (accept: (m: Recorded) => boolean, what = "message") =>
    new Promise<Recorded>((resolve, reject) => {
      const past = messages.find(accept);
      if (past) return resolve(past);
      const w = {
        accept,
        resolve: (m: Recorded) => {
          clearTimeout(timer);
          resolve(m);
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(w);
        reject(new Error(`no ${what} within ${WAIT_MS} ms`));
      }, WAIT_MS);
      waiters.add(w);
    });

  return {
    messages,
    calls: (stationId, action) =>
      messages.filter(
        (m) => m.direction === "in" && m.envelope.type === 2 && (!stationId || m.stationId === stationId) && (!action || m.envelope.action === action),
      ) as ReturnType<TestManager["calls"]>,
    call: async (stationId, version, action, request, id = randomBytes(8).toString("hex")) => {
      const answer = waitFor((m) => m.direction === "in" && m.stationId === stationId && m.envelope.type !== 2 && m.envelope.id === id, `answer to ${action} ${id}`);
      await client.publishAsync(topics.out(version, stationId), JSON.stringify({ type: 2, action, id, request }));
      return (await answer).envelope;
    },
    publishRaw: async (topic, payload) => {
      await client.publishAsync(topic, payload);
    },
    waitFor,
    setHandler: (h) => {
      handler = h;
    },
    client,
    close: async () => {
      await client.endAsync(true);
    },
  };
};
