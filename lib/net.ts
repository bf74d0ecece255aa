import net from "node:net";
import type { AddressInfo } from "node:net";

/** Resolves with undefined after `ms` even if the step hangs, so shutdowns stay bounded. */
export const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T | undefined> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    promise.then(
      (v) => (clearTimeout(timer), resolve(v)),
      (e: unknown) => (clearTimeout(timer), reject(e)),
    );
  });

/** A listening address as a URL host: wildcard binds are reached via loopback, IPv6 needs brackets. */
export const urlHost = (host: string) => {
  if (host === "0.0.0.0" || host === "::" || host === "") return "127.0.0.1";
  return net.isIPv6(host) ? `[${host}]` : host;
};

/** Listens and resolves with the actual port (so 0 works), or rejects with the bind error. */
export const listen = (server: net.Server, port: number, host: string) =>
  new Promise<number>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(port, host, () => {
      server.off("error", onError);
      resolve((server.address() as AddressInfo).port);
    });
  });

export const closeServer = (server: net.Server) =>
  new Promise<void>((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
  });
