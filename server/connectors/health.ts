import "server-only";
import { Feed } from "../../lib/feed";

export type LinkState = "connected" | "reconnecting" | "down";

/** One upstream connection as the console sees it. */
export type UpstreamStatus = {
  id: string;
  label: string;
  state: LinkState;
  /** When the state last changed (ms since epoch). */
  since: number;
  /** When the last message arrived from this upstream (ms since epoch), if ever. */
  lastMessageAt: number | null;
  detail: string | null;
  url: string | null;
};

// Message arrivals only refresh `lastMessageAt` in the feed this often; the browser
// computes the age itself, so a busy upstream does not flood every subscriber.
const MESSAGE_REFRESH_MS = 1000;

export class UpstreamHealth {
  private readonly statuses = new Map<string, UpstreamStatus>();
  private readonly lastPublishedMessageAt = new Map<string, number>();
  readonly feed = new Feed<UpstreamStatus>({
    name: "health",
    keyOf: (s) => s.id,
    snapshot: () => this.list(),
    bufferSize: 512,
  });

  register(id: string, label: string, url: string | null = null) {
    const status: UpstreamStatus = { id, label, state: "reconnecting", since: Date.now(), lastMessageAt: null, detail: "connecting", url };
    this.statuses.set(id, status);
    this.feed.upsert(status);
    return {
      setState: (state: LinkState, detail: string | null = null) => this.setState(id, state, detail),
      messageReceived: (at = Date.now()) => this.messageReceived(id, at),
      unregister: () => this.unregister(id),
    };
  }

  list() {
    return [...this.statuses.values()].map((s) => ({ ...s }));
  }

  get(id: string) {
    const s = this.statuses.get(id);
    return s ? { ...s } : undefined;
  }

  private setState(id: string, state: LinkState, detail: string | null) {
    const current = this.statuses.get(id);
    if (!current || (current.state === state && current.detail === detail)) return;
    const next = { ...current, state, detail, since: current.state === state ? current.since : Date.now() };
    this.statuses.set(id, next);
    this.feed.upsert(next);
  }

  private messageReceived(id: string, at: number) {
    const current = this.statuses.get(id);
    if (!current) return;
    const next = { ...current, lastMessageAt: at };
    this.statuses.set(id, next);
    if (at - (this.lastPublishedMessageAt.get(id) ?? 0) >= MESSAGE_REFRESH_MS) {
      this.lastPublishedMessageAt.set(id, at);
      this.feed.upsert(next);
    }
  }

  private unregister(id: string) {
    this.statuses.delete(id);
    this.feed.publish(id, null);
  }
}

const g = globalThis as unknown as { __switchyardHealth?: UpstreamHealth };
export const upstreamHealth = () => (g.__switchyardHealth ??= new UpstreamHealth());
