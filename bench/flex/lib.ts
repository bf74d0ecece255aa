import { spawn, type ChildProcess } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { connectAsync } from "mqtt";

/** Shared pieces of bench:flex: free ports, a private Mosquitto, a node process, percentiles. */
import { freePort } from "../../lib/testing/net";

export { freePort };

export const percentile = (sorted: number[], q: number) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] : Number.NaN);
export const f = (v: number, digits = 1) => (Number.isFinite(v) ? v.toFixed(digits) : "–");

const children = new Set<ChildProcess>();
/** Killed with the benchmark, whatever way it ends. */
export const adopt = (child: ChildProcess) => {
  children.add(child);
  child.once("exit", () => children.delete(child));
  return child;
};
export const killAll = () => {
  for (const c of children) c.kill("SIGKILL");
};
process.on("exit", killAll);

/** A private Mosquitto (anonymous, TCP_NODELAY) on a free port: the broker every part uses. */
export const startMosquitto = async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-flex-mosq-"));
  fs.chmodSync(dir, 0o755);
  const port = await freePort();
  const conf = path.join(dir, "mosquitto.conf");
  fs.writeFileSync(conf, [`listener ${port} 127.0.0.1`, "allow_anonymous true", "set_tcp_nodelay true", "persistence false", "max_queued_messages 100000", "log_dest none"].join("\n") + "\n");
  fs.chmodSync(conf, 0o644);
  const proc = spawn("mosquitto", ["-c", conf], { stdio: "ignore" });
  children.add(proc);
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    try {
      const c = await connectAsync(url, { reconnectPeriod: 0, connectTimeout: 1000 });
      await c.endAsync(true);
      break;
    } catch (error) {
      if (i > 50) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    pid: proc.pid!,
    close: async () => {
      proc.kill("SIGTERM");
      children.delete(proc);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
};

/** A flex node as its own process (services/flex/main.ts), in-memory store. */
export const startNodeProcess = async (env: Record<string, string>, execArgv: string[] = []) => {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-flex-node-"));
  const port = await freePort();
  const child = spawn(process.execPath, [...execArgv, "--import", "tsx", "services/flex/main.ts"], {
    env: { ...process.env, LOG_LEVEL: "warn", SWITCHYARD_DATA_DIR: dataDir, FLEX_PORT: String(port), FLEX_STORE: "memory", FLEX_ROLE: "TSO", FLEX_NODE_ID: "bench", ...env },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.add(child);
  const ready = await new Promise<Record<string, unknown>>((resolve, reject) => {
    let out = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const line = out.split("\n").find((l) => l.includes('"event":"ready"'));
      if (line) resolve(JSON.parse(line));
    });
    child.once("exit", (code) => reject(new Error(`flex node exited (${code})`)));
  });
  const creds = JSON.parse(fs.readFileSync(path.join(dataDir, "credentials.json"), "utf8")) as { flex: { participants: Record<string, { id: string; token: string }[]> } };
  const token = (id: string) => creds.flex.participants.bench.find((p) => p.id === id)!.token;
  return {
    url: String(ready.url),
    pid: child.pid!,
    token,
    metric: async (name: string, labels = "") => {
      const text = await (await fetch(`${ready.url}/metrics`)).text();
      const line = text.split("\n").find((l) => l.startsWith(`${name}${labels ? `{${labels}}` : ""} `));
      return line ? Number(line.split(" ").at(-1)) : 0;
    },
    close: async () => {
      child.kill("SIGTERM");
      await new Promise((r) => child.once("exit", r));
      children.delete(child);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
};

/** CPU seconds a process has used (utime + stime from /proc). */
export const cpuSeconds = (pid: number) => {
  try {
    const parts = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(parts[11]) + Number(parts[12])) / 100;
  } catch {
    return Number.NaN;
  }
};
