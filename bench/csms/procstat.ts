import { readFileSync } from "node:fs";

/**
 * CPU% and RSS of processes from /proc, sampled every second. CPU% is per core (100 % =
 * one core busy; this machine has 2). Linux only, by design: the benchmark runs here.
 */

const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64/arm64

const readTicks = (pid: number) => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state); utime = field 14, stime = field 15.
    return Number(fields[11]) + Number(fields[12]);
  } catch {
    return undefined;
  }
};

const readRssMb = (pid: number) => {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) / 1024 : undefined;
  } catch {
    return undefined;
  }
};

/** Whole-machine busy share (0–100 % of all cores) from /proc/stat. */
const readMachine = () => {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0];
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = v[3] + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { idle, total };
};

export type Usage = { cpuAvg: number; cpuMax: number; rssAvgMb: number; rssMaxMb: number; samples: number };

export const createSampler = (groups: Record<string, () => number[]>) => {
  const prev = new Map<number, number>();
  let prevAt = Date.now();
  let prevMachine = readMachine();
  const cpu: Record<string, number[]> = {};
  const rss: Record<string, number[]> = {};
  const machine: number[] = [];
  let recording = false;

  const tick = () => {
    const at = Date.now();
    const dt = (at - prevAt) / 1000;
    prevAt = at;
    const m = readMachine();
    const busy = m.total - prevMachine.total - (m.idle - prevMachine.idle);
    const all = m.total - prevMachine.total;
    prevMachine = m;
    if (recording && all > 0) machine.push((busy / all) * 100);
    // Read each process once per tick, however many groups it is in (a group may sum others).
    const thisTick = new Map<number, { cpu: number; rss: number } | undefined>();
    const sample = (pid: number) => {
      if (thisTick.has(pid)) return thisTick.get(pid);
      const ticks = readTicks(pid);
      const r = readRssMb(pid);
      let s: { cpu: number; rss: number } | undefined;
      if (ticks !== undefined && r !== undefined) {
        const before = prev.get(pid);
        prev.set(pid, ticks);
        s = { cpu: before !== undefined && dt > 0 ? ((ticks - before) / CLK_TCK / dt) * 100 : 0, rss: r };
      }
      thisTick.set(pid, s);
      return s;
    };
    for (const [name, pids] of Object.entries(groups)) {
      let cpuSum = 0;
      let rssSum = 0;
      let seen = false;
      for (const pid of pids()) {
        const s = sample(pid);
        if (!s) continue;
        cpuSum += s.cpu;
        rssSum += s.rss;
        seen = true;
      }
      if (!recording || !seen) continue;
      (cpu[name] ??= []).push(cpuSum);
      (rss[name] ??= []).push(rssSum);
    }
  };
  const timer = setInterval(tick, 1000);
  tick();

  const summary = (xs: number[] | undefined) => {
    if (!xs?.length) return { avg: Number.NaN, max: Number.NaN };
    return { avg: xs.reduce((a, b) => a + b, 0) / xs.length, max: Math.max(...xs) };
  };

  return {
    start: () => {
      recording = true;
    },
    stop: () => {
      recording = false;
      clearInterval(timer);
    },
    usage: (name: string): Usage => {
      const c = summary(cpu[name]);
      const r = summary(rss[name]);
      return { cpuAvg: c.avg, cpuMax: c.max, rssAvgMb: r.avg, rssMaxMb: r.max, samples: cpu[name]?.length ?? 0 };
    },
    machine: () => summary(machine),
    /** Per-second CPU% series, for the JSON result. */
    series: () => ({ cpu, rss, machine }),
  };
};

/** Share (0–100) of all cores busy over `ms`, from /proc/stat. */
export const machineBusy = async (ms: number) => {
  const a = readMachine();
  await new Promise((r) => setTimeout(r, ms));
  const b = readMachine();
  const total = b.total - a.total;
  return total > 0 ? (1 - (b.idle - a.idle) / total) * 100 : 0;
};

/** Waits up to `maxSec` for the machine to be < 25 % busy over 3 s; returns the last reading. */
export const waitQuiet = async (maxSec: number, log: (line: string) => void) => {
  const deadline = Date.now() + maxSec * 1000;
  for (;;) {
    const busy = await machineBusy(3000);
    if (busy < 25 || maxSec <= 0) return busy;
    if (Date.now() > deadline) {
      log(`machine still ${busy.toFixed(0)} % busy after ${maxSec} s; starting anyway (numbers will be skewed)`);
      return busy;
    }
    log(`machine ${busy.toFixed(0)} % busy with other work; waiting for a quiet moment`);
  }
};
