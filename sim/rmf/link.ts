import type pino from "pino";
import WebSocket from "ws";

/**
 * A websocket to main that comes back by itself (200 ms doubling to 2 s), authenticating
 * with the internal token. `onOpen` runs after every (re)connect, so the caller can send
 * its full state again: after main restarts, that is how nothing the adapters know is lost.
 */
export type Link = { send: (frame: unknown) => boolean; connected: () => boolean; close: () => Promise<void> };

export const openLink = ({ url, token, onOpen, onMessage, log, name }: { url: string; token: string; onOpen: () => void; onMessage: (text: string) => void; log: pino.Logger; name: string }): Link => {
  let ws: WebSocket | undefined;
  let delay = 200;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;

  const connect = () => {
    if (closed) return;
    const socket = new WebSocket(url, { headers: { authorization: `Bearer ${token}` }, perMessageDeflate: false });
    ws = socket;
    socket.on("open", () => {
      delay = 200;
      log.info({ url }, `${name} connected`);
      onOpen();
    });
    socket.on("message", (data, isBinary) => {
      if (!isBinary) onMessage(data.toString());
    });
    socket.on("error", (error) => log.debug({ url, err: error.message }, `${name} error`));
    socket.on("close", () => {
      if (ws === socket) ws = undefined;
      if (closed) return;
      timer = setTimeout(connect, delay);
      delay = Math.min(2000, delay * 2);
    });
  };
  connect();

  return {
    send: (frame) => {
      if (!ws || ws.readyState !== WebSocket.OPEN) return false;
      ws.send(JSON.stringify(frame));
      return true;
    },
    connected: () => ws?.readyState === WebSocket.OPEN,
    close: async () => {
      closed = true;
      clearTimeout(timer);
      const socket = ws;
      if (!socket || socket.readyState === WebSocket.CLOSED) return;
      await new Promise<void>((resolve) => {
        socket.once("close", () => resolve());
        socket.close();
        setTimeout(() => (socket.terminate(), resolve()), 1000).unref();
      });
    },
  };
};
