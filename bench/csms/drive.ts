import { fork, type ChildProcess } from "node:child_process";
import { appendFileSync } from "node:fs";
import path from "node:path";
import type { LoadInit, LoadReport } from "./load";
import { children, here, root, runDir, state } from "./topology";

/**
 * Load orchestration for bench:csms: forks the load generators (station i goes to process
 * i % P and gateway i % G), starts them together, optionally adds the flooding station, and
 * collects their reports within a hard deadline.
 */

export type LoadProc = { proc: ChildProcess; report?: LoadReport };
export type Workload = Omit<LoadInit, "type" | "procIndex" | "urls" | "indexes" | "idPrefix" | "connectRetries">;

export const forkLoads = async (o: { N: number; P: number; urls: string[]; workload: Workload; env: NodeJS.ProcessEnv }) => {
  const loads: LoadProc[] = [];
  const readyLoads: Promise<void>[] = [];
  for (let p = 0; p < o.P; p++) {
    const proc = fork(path.join(here, "load.ts"), [], { cwd: root, execArgv: ["--import", "tsx"], stdio: ["ignore", "pipe", "pipe", "ipc"], env: o.env });
    children.push({ name: `load${p}`, proc });
    const logFile = path.join(runDir, `load${p}.log`);
    proc.stdout!.on("data", (c: Buffer) => appendFileSync(logFile, c));
    proc.stderr!.on("data", (c: Buffer) => appendFileSync(logFile, c));
    const entry: LoadProc = { proc };
    loads.push(entry);
    readyLoads.push(
      new Promise<void>((resolve, reject) => {
        proc.on("message", (m: { type: string }) => {
          if (m.type === "ready") resolve();
          if (m.type === "report") entry.report = m as LoadReport;
        });
        proc.on("exit", (code) => {
          if (!entry.report && !state.shuttingDown) reject(new Error(`load${p} exited (${code}) without a report; log: ${logFile}`));
        });
      }),
    );
    const indexes = Array.from({ length: o.N }, (_, i) => i).filter((i) => i % o.P === p);
    const init: LoadInit = { type: "init", procIndex: p, urls: o.urls, indexes, idPrefix: "BENCH", connectRetries: 5, ...o.workload };
    proc.send(init);
  }
  await Promise.all(readyLoads);
  return loads;
};

/** Starts the one hostile station (its own process, so its pumping does not slow the measurements). */
export const startFlooder = (gatewayUrl: string) => {
  let report: Record<string, number> | undefined;
  const flooder = fork(path.join(here, "flood.ts"), [gatewayUrl], { cwd: root, execArgv: ["--import", "tsx"], stdio: ["ignore", "ignore", "ignore", "ipc"] });
  flooder.on("message", (m: { type: string }) => {
    if (m.type === "flood-report") report = m as unknown as Record<string, number>;
  });
  return {
    stop: async () => {
      const exited = new Promise((r) => (flooder.exitCode !== null ? r(null) : flooder.once("exit", r)));
      if (flooder.connected) flooder.send({ type: "exit" });
      // A flooder whose loop starves its own event loop is not waited for.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 3000))]);
      if (flooder.exitCode === null) flooder.kill("SIGKILL");
      return report;
    },
  };
};

export const collectReports = (loads: LoadProc[], hardDeadlineMs: number) =>
  Promise.race([
    Promise.all(
      loads.map(
        (l) =>
          new Promise<LoadReport>((resolve) => {
            if (l.report) return resolve(l.report);
            l.proc.on("message", (m: { type: string }) => m.type === "report" && resolve(m as LoadReport));
          }),
      ),
    ),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`load generators did not report within ${hardDeadlineMs / 1000} s`)), hardDeadlineMs + 500)),
  ]);
