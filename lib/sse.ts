/** One Server-Sent Event as dispatched by the spec's parsing rules. */
export type SseEvent = { id: string | null; event: string; data: string };

/**
 * A minimal SSE parser over a fetch body (WHATWG "event stream interpretation"): `event`,
 * `data` (multi-line), `id`, comments (`:`) and CR/LF/CRLF line endings. `onActivity`
 * fires for every chunk, comments included, so the caller can detect a silent dead link.
 */
export const readSse = async (
  body: ReadableStream<Uint8Array>,
  onEvent: (event: SseEvent) => void | Promise<void>,
  onActivity: () => void = () => {},
): Promise<void> => {
  const decoder = new TextDecoder();
  const reader = body.getReader();
  let buffer = "";
  let id: string | null = null;
  let event = "";
  let data: string[] = [];

  const line = async (text: string) => {
    if (text === "") {
      // Spec: no data, no event. A bare `event:` line is still honoured (a resync must not be lost).
      if (data.length > 0 || event) await onEvent({ id, event: event || "message", data: data.join("\n") });
      event = "";
      data = [];
      return;
    }
    if (text.startsWith(":")) return;
    const colon = text.indexOf(":");
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "data") data.push(value);
    else if (field === "event") event = value;
    else if (field === "id" && !value.includes("\0")) id = value;
  };

  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      onActivity();
      buffer += decoder.decode(value, { stream: true });
      let match: RegExpExecArray | null;
      const eol = /\r\n|\r|\n/g;
      let start = 0;
      while ((match = eol.exec(buffer))) {
        // A lone CR at the very end may be the first half of a CRLF split across chunks.
        if (match[0] === "\r" && match.index === buffer.length - 1) break;
        await line(buffer.slice(start, match.index));
        start = match.index + match[0].length;
      }
      buffer = buffer.slice(start);
    }
  } finally {
    reader.releaseLock();
  }
};
