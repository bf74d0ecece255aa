import { z } from "zod";

/**
 * socket.io control messages (default namespace, path `/socket.io`). The token travels in
 * the handshake `auth: { token }` only; a refused connection gets a connect error with
 * `CONNECT_REFUSED_MESSAGE`. Acks go to the requesting socket only, never broadcast.
 */
export const SOCKET_PATH = "/socket.io";
export const CONNECT_REFUSED_MESSAGE = "Connection rejected by server";

export const subscribeRequestSchema = z.object({ room: z.string().min(1) });
export type SubscribeRequest = z.infer<typeof subscribeRequestSchema>;

/** `error` is empty on success; otherwise `missing 'room'` or `"<status> <detail>"`. */
export const subscribeAckSchema = z.object({ success: z.boolean(), error: z.string() });
export type SubscribeAck = z.infer<typeof subscribeAckSchema>;

export const ACK_OK: SubscribeAck = { success: true, error: "" };
export const ackError = (error: string): SubscribeAck => ({ success: false, error });

/** The failures a subscribe can answer with (Switchyard adds 403 and 429 to rmf-web's set). */
export const SUBSCRIBE_ERRORS = {
  missingRoom: "missing 'room'",
  notFound: "404 Not Found",
  forbidden: "403 Forbidden",
  tooManyRooms: "429 Too Many Rooms",
  tooFast: "429 Too Many Requests",
  unavailable: "503 Service Unavailable",
} as const;
