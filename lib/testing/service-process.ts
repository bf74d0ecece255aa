import { spawn, type ChildProcess } from "node:child_process";
import readline from "node:readline";

/**
 * Runs a service's `main.ts` as a child process, as deployed, and resolves with its URL once
 * it prints its ready line (`{"event":"ready",…,"url"}`, services/lib/run-service.ts). Crash
 * tests kill it with -9 and start it again. `children` collects every process started, so an
 * afterAll can kill what is left.
 */
export const startServiceProcess = (script: string, env: Record<string, string | undefined>, { children, timeoutMs = 60_000 }: { children?: Set<ChildProcess>; timeoutMs?: number } = {}) =>
  new Promise<{ proc: ChildProcess; url: string }>((resolve, reject) => {
    const proc = spawn(process.execPath, ["--import", "tsx", script], { env: { ...process.env, LOG_LEVEL: "warn", ...env }, stdio: ["ignore", "pipe", "pipe"] });
    children?.add(proc);
    proc.once("exit", () => children?.delete(proc));
    let stderr = "";
    proc.stderr!.on("data", (d) => (stderr += String(d)));
    const timer = setTimeout(() => reject(new Error(`no ready line: ${stderr}`)), timeoutMs);
    readline.createInterface({ input: proc.stdout! }).on("line", (line) => {
      if (!line.includes('"event":"ready"')) return;
      clearTimeout(timer);
      resolve({ proc, url: JSON.parse(line).url });
    });
    proc.once("exit", (code) => reject(new Error(`exited ${code}: ${stderr}`)));
  });

/** kill -9, resolved once the process is gone. */
export const kill9 = (proc: ChildProcess) => new Promise<void>((resolve) => (proc.once("exit", () => resolve()), proc.kill("SIGKILL")));
