import "server-only";
import { writeAudit } from "../audit/write-audit";
import type { Db } from "../db";
import { clientAddress, type TrustedProxies } from "./client-address";
import { CLIENT_ADDRESS_HEADER } from "./socket-peer";
import { traceIdOf } from "./trace-id";

export type GuardOptions = {
  db: Db;
  /** Bodies larger than this are refused with 413 without being read further. */
  maxBodyBytes: number;
  /** When set, requests that change state (anything but GET/HEAD/OPTIONS) must carry exactly this Origin. */
  requireOrigin?: string | null;
  trustedProxies?: TrustedProxies;
};

export type Guarded = { ok: true; request: Request; ip: string | null } | { ok: false; response: Response };

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

type Refusal = { action: string; message: string; input?: Record<string, unknown> };
type Seen = { db: Db; request: Request; ip: string | null };

/** One audit entry for a request refused before (or instead of) any sign-in: no actor, the client's address. */
export const auditRefusal = ({ db, request, ip }: Seen, { action, message, input }: Refusal) =>
  writeAudit(db, {
    actor: null,
    action,
    target: new URL(request.url).pathname,
    input: { method: request.method, ...input },
    outcome: "denied",
    error: message,
    traceId: traceIdOf(request.headers),
    ip,
  });

const refuse = async (seen: Seen, { status, code, ...refusal }: Refusal & { status: number; code: string }): Promise<Guarded> => {
  await auditRefusal(seen, refusal);
  // Connection: close, so an oversized upload still in flight is not drained to keep the socket.
  const headers = { "content-type": "application/json", "cache-control": "no-store", ...(status === 413 ? { connection: "close" } : {}) };
  return { ok: false, response: new Response(JSON.stringify({ code, message: refusal.message }), { status, headers }) };
};

/** Reads at most `limit` bytes; null (and the stream cancelled) if the body is longer. */
const readCapped = async (body: ReadableStream<Uint8Array>, limit: number): Promise<Uint8Array | null> => {
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return bytes;
};

/**
 * The first thing /api/trpc and /api/auth do with a request, before any session lookup:
 * resolve the client's address, refuse a state-changing request from a foreign origin
 * (403), refuse a body over the cap by its Content-Length or by counting the bytes as
 * they stream (413). Each refusal leaves an audit entry with the client's real address
 * and touches nothing else. What passes is a copy of the request with its body in memory
 * (at most the cap) and the resolved address in CLIENT_ADDRESS_HEADER for better-auth.
 */
export const guardRequest = async (request: Request, { db, maxBodyBytes, requireOrigin, trustedProxies }: GuardOptions): Promise<Guarded> => {
  const ip = clientAddress(request.headers, trustedProxies);
  const at = { db, request, ip };
  const changesState = !SAFE_METHODS.has(request.method.toUpperCase());

  if (requireOrigin && changesState) {
    const origin = request.headers.get("origin");
    if (origin?.toLowerCase() !== new URL(requireOrigin).origin.toLowerCase()) {
      return refuse(at, {
        status: 403,
        code: "FORBIDDEN",
        action: "request.foreign_origin",
        message: origin ? `Requests from ${origin.slice(0, 200)} may not change anything here.` : "A request that changes something must say where it comes from (Origin).",
        input: { origin: origin?.slice(0, 200) ?? null },
      });
    }
  }

  const tooLarge = (declared: number | null) =>
    refuse(at, {
      status: 413,
      code: "PAYLOAD_TOO_LARGE",
      action: "request.body_too_large",
      message: `The request body is larger than ${maxBodyBytes} bytes.`,
      input: { contentLength: declared },
    });
  const declared = request.headers.get("content-length");
  const declaredBytes = declared === null ? null : Number(declared);
  if (declaredBytes !== null && !(declaredBytes <= maxBodyBytes)) return tooLarge(Number.isFinite(declaredBytes) ? declaredBytes : null);

  const headers = new Headers(request.headers);
  if (ip) headers.set(CLIENT_ADDRESS_HEADER, ip);
  else headers.delete(CLIENT_ADDRESS_HEADER);
  let body: Uint8Array | null = null;
  if (request.body && changesState) {
    body = await readCapped(request.body, maxBodyBytes);
    if (!body) return tooLarge(declaredBytes);
    // The copy's body is in memory now: describe it as what it is.
    headers.delete("transfer-encoding");
    headers.set("content-length", String(body.byteLength));
  }
  const guarded = new Request(request.url, { method: request.method, headers, body: body as BodyInit | null, signal: request.signal });
  return { ok: true, request: guarded, ip };
};
