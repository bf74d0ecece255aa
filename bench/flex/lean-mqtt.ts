import { EventEmitter } from "node:events";
import net from "node:net";
import mqttPacket from "mqtt-packet";
import type { SimMqttClient, SimMqttConnect } from "../../sim/flex/device";

/**
 * A lean MQTT 3.1.1 client for bench:flex's device processes: mqtt-packet (the codec mqtt.js
 * and aedes use) on a plain socket, with only what a simulated device needs — connect with a
 * login and a last will, subscribe, publish at QoS 0/1 (a QoS 1 publish is sent once; no
 * resend), PUBACK what arrives at QoS 1, keepalive pings. No reconnect, no offline queue,
 * no outgoing store: the benchmark restarts anything that drops.
 *
 * Why: 10,000 mqtt.js clients in four processes spent ~120 µs of CPU per activation on the
 * same two cores as the node and the broker (streams, debug calls, the session machinery
 * per packet), which made the box's scheduler, not the node, the thing measured. The
 * devices' own work — contract check, signature path, replay and expiry checks, the ramp
 * model — is sim/flex/device.ts's, unchanged. The bare-broker baseline uses the same clients.
 */
const KEEPALIVE_S = 60;
const live = new Set<LeanClient>();
let pinger: NodeJS.Timeout | undefined;
const PINGREQ = Buffer.from([0xc0, 0x00]);

class LeanClient extends EventEmitter implements SimMqttClient {
  connected = false;
  private socket: net.Socket;
  private nextId = 1;
  private lastWrite = Date.now();
  private pendingSubs = new Map<number, (error?: Error) => void>();

  constructor(url: string, opts: Parameters<SimMqttConnect>[1]) {
    super();
    const u = new URL(url);
    this.socket = net.connect({ host: u.hostname, port: Number(u.port || 1883), noDelay: true });
    const parser = mqttPacket.parser({ protocolVersion: 4 });
    const timeout = setTimeout(() => this.fail(new Error("connect timeout")), opts.connectTimeout ?? 30_000);
    this.socket.once("connect", () => {
      this.write(
        mqttPacket.generate({
          cmd: "connect",
          protocolId: "MQTT",
          protocolVersion: 4,
          clean: true,
          clientId: opts.clientId,
          keepalive: KEEPALIVE_S,
          username: opts.username,
          password: opts.password === undefined ? undefined : Buffer.from(opts.password),
          will: opts.will ? { topic: opts.will.topic, payload: Buffer.from(opts.will.payload), qos: opts.will.qos, retain: opts.will.retain } : undefined,
        }),
      );
    });
    this.socket.on("data", (chunk) => parser.parse(chunk));
    this.socket.on("error", (error) => this.fail(error));
    this.socket.on("close", () => {
      this.connected = false;
      live.delete(this);
      this.emit("close");
    });
    parser.on("error", (error) => this.fail(error));
    parser.on("packet", (packet) => {
      switch (packet.cmd) {
        case "connack":
          clearTimeout(timeout);
          if (packet.returnCode !== 0) return this.fail(new Error(`connection refused (${packet.returnCode})`));
          this.connected = true;
          live.add(this);
          pinger ??= setInterval(ping, 5_000).unref();
          this.emit("connect");
          return;
        case "publish": {
          // PUBACK and whatever the handler publishes leave in one write.
          this.socket.cork();
          if (packet.qos === 1) this.write(Buffer.from([0x40, 0x02, packet.messageId! >> 8, packet.messageId! & 0xff]));
          try {
            this.emit("message", packet.topic, packet.payload as Buffer);
          } finally {
            this.socket.uncork();
          }
          return;
        }
        case "suback": {
          const done = this.pendingSubs.get(packet.messageId!);
          this.pendingSubs.delete(packet.messageId!);
          done?.((packet.granted as (number | { qos: number })[]).some((g) => (typeof g === "number" ? g : g.qos) === 128) ? new Error("subscription refused") : undefined);
          return;
        }
        default:
          return; // puback, pingresp: nothing to do
      }
    });
  }

  private fail(error: Error) {
    if (this.listenerCount("error")) this.emit("error", error);
    this.socket.destroy();
  }

  private write(buf: Buffer) {
    this.lastWrite = Date.now();
    this.socket.write(buf);
  }

  private id() {
    const id = this.nextId;
    this.nextId = id === 65_535 ? 1 : id + 1;
    return id;
  }

  pingIfIdle(now: number) {
    if (now - this.lastWrite > (KEEPALIVE_S * 1000) / 2) this.write(PINGREQ);
  }

  publish(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}) {
    if (!this.connected) return this;
    const qos = opts.qos ?? 0;
    this.write(mqttPacket.generate({ cmd: "publish", topic, payload, qos, retain: opts.retain ?? false, dup: false, messageId: qos ? this.id() : undefined }));
    return this;
  }

  async publishAsync(topic: string, payload: string | Buffer, opts: { qos?: 0 | 1; retain?: boolean } = {}) {
    this.publish(topic, payload, opts);
  }

  subscribe(topics: string | string[], opts: { qos: 0 | 1 }, callback?: (error?: Error | null) => void) {
    const messageId = this.id();
    if (callback) this.pendingSubs.set(messageId, (error) => callback(error ?? null));
    this.write(mqttPacket.generate({ cmd: "subscribe", messageId, subscriptions: (Array.isArray(topics) ? topics : [topics]).map((topic) => ({ topic, qos: opts.qos })) }));
    return this;
  }

  async endAsync() {
    if (this.socket.destroyed) return;
    this.connected = false;
    await new Promise<void>((resolve) => this.socket.end(Buffer.from([0xe0, 0x00]), () => resolve()));
    this.socket.destroy();
  }
}

const ping = () => {
  const now = Date.now();
  for (const c of live) c.pingIfIdle(now);
};

export const leanConnect: SimMqttConnect = (url, opts) => new LeanClient(url, opts);
