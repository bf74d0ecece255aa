import "server-only";
import { z } from "zod";
import {
  FLEX_API_PREFIX,
  feedSnapshotSchema,
  listSchemas,
  nodeHealthSchema,
  nodeInfoSchema,
  registeredDeviceSchema,
  requestWithRevisionsSchema,
  type ActivationSignalInput,
  type CreateRequest,
  type RegisterDevice,
  type ReviseRequest,
} from "../../../contracts/flex/api";
import { activationSignalSchema } from "../../../contracts/flex/entities";
import { readSse } from "../../../lib/sse";
import { checkContract } from "../kit/contract";
import { createUpstreamClient } from "../kit/http-client";
import { parseEventId, type FeedPosition } from "../kit/live-view";
import { UpstreamUnreachableError } from "../kit/upstream-errors";

export type FlexClientOptions = {
  /** The node's id (`flex-tso`): labels, health ids and store keys. */
  nodeId: string;
  baseUrl: string;
  /** A participant token of that node: the console's read-everything one, a trader's, or the bridge's FSP one. */
  token: string | undefined;
  timeoutMs?: number;
  /** Which setting holds the token, for "the node refused the console's credentials (check …)". */
  credentialsHint?: string;
};

export const ZSignalAnswer = z.object({ signal: activationSignalSchema });
export const ZRegisteredDevices = z.object({ devices: z.array(registeredDeviceSchema) });

const api = (path: string) => `${FLEX_API_PREFIX}${path}`;

/**
 * One flex node's `/api/v1` (services/flex/README.md) on the kit's client: every answer is
 * checked against contracts/flex before the console uses it. The same client serves the
 * console's read-everything token and a trader's token (the node then enforces "own
 * participant only" too).
 */
export const createFlexClient = ({ nodeId, baseUrl, token, timeoutMs = 10_000, credentialsHint = "FLEX_CONSOLE_TOKEN" }: FlexClientOptions) => {
  const http = createUpstreamClient({ upstream: "flex", label: `Flex node ${nodeId}`, baseUrl, token, timeoutMs, credentialsHint });
  return {
    http,
    nodeId,
    baseUrl: http.url,

    node: (signal?: AbortSignal) => http.get(api("/node"), { schema: nodeInfoSchema, signal }),
    health: () => http.get(api("/health"), { schema: nodeHealthSchema }),

    /**
     * The node's state as its live feed starts: the feed sends a `snapshot` event first to a
     * client without a Last-Event-ID, with the feed position as its id. Reading just that
     * event gives a snapshot and the exact position to follow from (the node has no other
     * snapshot endpoint that says where in the feed it stands).
     */
    feedSnapshot: async (signal: AbortSignal): Promise<{ snapshot: z.output<typeof feedSnapshotSchema>; position: FeedPosition }> => {
      const controller = new AbortController();
      const onAbort = () => controller.abort(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      const timer = setTimeout(() => controller.abort(new Error("no snapshot within 30 s")), 30_000);
      let found: { snapshot: z.output<typeof feedSnapshotSchema>; position: FeedPosition } | undefined;
      class Done extends Error {}
      try {
        const body = await http.events(api("/events"), { lastEventId: null, signal: controller.signal });
        await readSse(body, (event) => {
          if (event.event !== "snapshot") return;
          const position = parseEventId(event.id);
          let data: unknown;
          try {
            data = JSON.parse(event.data);
          } catch {
            data = undefined;
          }
          const snapshot = checkContract(feedSnapshotSchema, data, { upstream: http.upstream, label: http.label, url: http.url, what: "event snapshot" });
          if (!position) throw new UpstreamUnreachableError({ upstream: http.upstream, label: http.label, url: http.url, reason: "the snapshot event has no feed position" });
          found = { snapshot, position };
          throw new Done();
        }).catch((error: unknown) => {
          if (!(error instanceof Done)) throw error;
        });
      } catch (error) {
        if (controller.signal.aborted && !signal.aborted) throw new UpstreamUnreachableError({ upstream: http.upstream, label: http.label, url: http.url, reason: (controller.signal.reason as Error).message });
        throw error;
      } finally {
        clearTimeout(timer);
        signal.removeEventListener("abort", onAbort);
        controller.abort();
      }
      if (!found) throw new UpstreamUnreachableError({ upstream: http.upstream, label: http.label, url: http.url, reason: "the feed ended before its snapshot" });
      return found;
    },

    listRequests: () => http.get(api("/requests"), { schema: listSchemas.requests }),
    getRequest: (id: string) => http.get(api("/requests/:id"), { params: { id }, schema: requestWithRevisionsSchema }),
    createRequest: (body: CreateRequest, signal?: AbortSignal) => http.post(api("/requests"), { body, schema: requestWithRevisionsSchema, signal }),
    reviseRequest: (id: string, body: ReviseRequest, signal?: AbortSignal) => http.patch(api("/requests/:id"), { params: { id }, body, schema: requestWithRevisionsSchema, signal }),
    cancelRequest: (id: string, signal?: AbortSignal) => http.delete(api("/requests/:id"), { params: { id }, schema: requestWithRevisionsSchema, signal }),

    orderbook: (query: { gridNode?: string; direction?: string } = {}) => http.get(api("/orderbook"), { query, schema: listSchemas.orderbook }),
    bundles: (window?: number) => http.get(api("/bundles"), { query: { window }, schema: listSchemas.bundles }),
    trades: () => http.get(api("/trades"), { schema: listSchemas.trades }),
    activations: (tradeId?: string) => http.get(api("/activations"), { query: { tradeId }, schema: listSchemas.activations }),
    settlements: () => http.get(api("/settlements"), { schema: listSchemas.settlements }),
    devices: () => http.get(api("/devices"), { schema: listSchemas.devices }),

    /** The LFC activation signal for one trade (the node stores it before it answers 202). */
    sendSignal: (body: ActivationSignalInput, signal?: AbortSignal) => http.post(api("/activation-signals"), { body, schema: ZSignalAnswer, signal }),
    /** FSP only (the EV-charger bridge): registers devices; the answer holds each one's broker password. */
    registerDevices: (devices: RegisterDevice[]) => http.post(api("/devices"), { body: { devices }, schema: ZRegisteredDevices }),
  };
};

export type FlexClient = ReturnType<typeof createFlexClient>;
