import "server-only";
import { z } from "zod";
import {
  zPage,
  ZCommandRecord,
  ZManagerCommandResult,
  ZMessageLogEntry,
  ZStationDetail,
  ZStationsSnapshot,
  ZStationView,
  ZTokenView,
  ZTransactionDetail,
  ZTransactionView,
  type TokenStatus,
} from "../../../contracts/csms/api";
import type { ZCommandBody } from "../../../contracts/csms/commands";
import { createUpstreamClient } from "../kit/http-client";

export type CsmsClientOptions = {
  baseUrl: string;
  token: string | undefined;
  /** Per-request timeout for everything except commands and the event stream. */
  timeoutMs?: number;
};

const withTotal = <T extends z.ZodType>(item: T) => zPage(item).extend({ total: z.number().int().min(0) });
export const ZStationsPage = withTotal(ZStationView);
export const ZTransactionsPage = withTotal(ZTransactionView);
export const ZTokensPage = zPage(ZTokenView);
export const ZMessagesPage = zPage(ZMessageLogEntry);

type Cursor = { limit?: number; cursor?: string | null };
type TokenFields = { status?: TokenStatus; expiresAt?: string | null; note?: string | null };

/**
 * The CSMS manager's `/api/v0` (services/csms/manager/API.md) on the kit's client: every
 * answer is checked against contracts/csms before the console uses it.
 */
export const createCsmsClient = ({ baseUrl, token, timeoutMs = 10_000 }: CsmsClientOptions) => {
  const http = createUpstreamClient({ upstream: "csms", label: "CSMS manager", baseUrl, token, timeoutMs, credentialsHint: "CSMS_API_TOKEN" });
  return {
    http,
    baseUrl: http.url,

    snapshot: (signal?: AbortSignal) => http.get("/api/v0/stations/snapshot", { schema: ZStationsSnapshot, signal, timeoutMs: 60_000 }),
    listStations: (query: Cursor & { q?: string; online?: boolean; protocol?: string; status?: string } = {}) =>
      http.get("/api/v0/stations", { query, schema: ZStationsPage }),
    getStation: (id: string) => http.get("/api/v0/stations/:id", { params: { id }, schema: ZStationDetail }),
    messages: (id: string, query: Cursor = {}) => http.get("/api/v0/stations/:id/messages", { params: { id }, query: { ...query, format: "json" }, schema: ZMessagesPage }),

    listTransactions: (query: Cursor & { stationId?: string; active?: boolean } = {}) => http.get("/api/v0/transactions", { query, schema: ZTransactionsPage }),
    getTransaction: (id: string) => http.get("/api/v0/transactions/:id", { params: { id }, schema: ZTransactionDetail }),

    listTokens: (query: Cursor & { q?: string } = {}) => http.get("/api/v0/tokens", { query, schema: ZTokensPage }),
    createToken: (body: TokenFields & { idTag: string; status: TokenStatus }) => http.post("/api/v0/tokens", { body, schema: ZTokenView }),
    updateToken: (idTag: string, body: TokenFields) => http.patch("/api/v0/tokens/:idTag", { params: { idTag }, body, schema: ZTokenView }),
    deleteToken: (idTag: string) => http.delete("/api/v0/tokens/:idTag", { params: { idTag } }),

    /**
     * Sends one command and waits for the station's answer (the manager waits up to its own
     * timeout). `commandId` lets the manager keep the outcome for a console that restarts.
     */
    sendCommand: (stationId: string, body: z.input<typeof ZCommandBody>, signal?: AbortSignal) =>
      http.post("/api/v0/stations/:id/commands", { params: { id: stationId }, body, schema: ZManagerCommandResult, signal, timeoutMs: null }),
    /** What became of a command sent earlier (404 when the manager never received it). */
    getCommand: (commandId: string) => http.get("/api/v0/commands/:commandId", { params: { commandId }, schema: ZCommandRecord }),
  };
};

export type CsmsClient = ReturnType<typeof createCsmsClient>;
