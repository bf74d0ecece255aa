import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { credentials, refuseUpgrade } from "./upgrade";

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString("base64")}`;

describe("credentials", () => {
  it("takes ocpp-rpc's handshake password when it has one (username = identity)", () => {
    expect(credentials("S1", Buffer.from("pw"), undefined)).toEqual({ password: "pw", usernameMatches: true });
  });
  it("falls back to the Authorization header and says whether the username is the station id", () => {
    expect(credentials("S1", undefined, basic("S1", "p:w"))).toEqual({ password: "p:w", usernameMatches: true });
    expect(credentials("S1", undefined, basic("other", "pw"))).toEqual({ password: "pw", usernameMatches: false });
  });
  it("finds no password in a missing, non-basic or malformed header", () => {
    const none = { password: undefined, usernameMatches: false };
    expect(credentials("S1", undefined, undefined)).toEqual(none);
    expect(credentials("S1", undefined, "Bearer abc")).toEqual(none);
    expect(credentials("S1", undefined, `Basic ${Buffer.from("no-colon").toString("base64")}`)).toEqual(none);
    expect(credentials("S1", undefined, "Basic !!!")).toEqual(none);
  });
});

describe("refuseUpgrade", () => {
  it("answers a plain HTTP status with a text body and extra headers, then drops the socket", () => {
    const socket = new PassThrough();
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    const written: string[] = [];
    const write = socket.write.bind(socket);
    socket.write = ((chunk: string) => (written.push(chunk), write(chunk))) as typeof socket.write;
    refuseUpgrade(socket, 503, "gateway busy, retry shortly", { "retry-after": "2" });
    const response = written.join("");
    expect(response.startsWith("HTTP/1.1 503 Service Unavailable\r\n")).toBe(true);
    expect(response).toContain("retry-after: 2\r\n");
    expect(response).toContain("connection: close\r\n");
    expect(response).toContain(`content-length: ${Buffer.byteLength("gateway busy, retry shortly\n")}\r\n`);
    expect(response.endsWith("\r\n\r\ngateway busy, retry shortly\n")).toBe(true);
    expect(socket.destroyed).toBe(true);
  });
  it("only drops a socket that can no longer be written", () => {
    const socket = new PassThrough();
    socket.end();
    const written: string[] = [];
    socket.write = ((chunk: string) => (written.push(chunk), true)) as typeof socket.write;
    Object.defineProperty(socket, "writable", { value: false });
    refuseUpgrade(socket, 404, "nope");
    expect(written).toEqual([]);
    expect(socket.destroyed).toBe(true);
  });
});
