/**
 * Topic filters and what a broker identity may do with them. One implementation for the
 * embedded broker's checks and for the Mosquitto ACL file, so both enforce the same rules.
 *
 * A filter level `%c` stands for the client's own id and `%u` for its username (as in
 * Mosquitto's `pattern` lines): a manager may publish only on `cs/feed/<its client id>`.
 */

export type Access = { publish: string[]; subscribe: string[] };
/** Component (= broker username) → what it may publish and subscribe to. */
export type AccessTable = Record<string, Access>;

const SHARE_PREFIX = "$share/";

/**
 * `$share/<group>/<filter>` → `<filter>`: a shared subscription reads exactly what the plain
 * one would, so it is authorized against the topic behind it. Undefined when malformed.
 */
export const unshare = (filter: string): string | undefined => {
  if (!filter.startsWith(SHARE_PREFIX)) return filter;
  const rest = filter.slice(SHARE_PREFIX.length);
  const slash = rest.indexOf("/");
  if (slash <= 0) return undefined;
  const group = rest.slice(0, slash);
  if (/[+#]/.test(group)) return undefined;
  const inner = rest.slice(slash + 1);
  return inner === "" ? undefined : inner;
};

/**
 * True when every topic `inner` matches is also matched by `outer` (a topic without
 * wildcards is a filter that matches itself). Wildcards at the first level never match
 * `$`-topics (MQTT-4.7.2-1), so `#` does not cover `$SYS/…`.
 */
export const filterCovers = (outer: string, inner: string): boolean => {
  const o = outer.split("/");
  const i = inner.split("/");
  for (let n = 0; n < o.length; n++) {
    const level = o[n];
    if (level === "#") return !(n === 0 && i[0]?.startsWith("$"));
    if (n >= i.length) return false;
    const mine = i[n];
    if (mine === "#") return false;
    if (level === "+") {
      if (n === 0 && mine.startsWith("$")) return false;
      continue;
    }
    if (mine !== level) return false;
  }
  return i.length === o.length;
};

/** Replaces `%c` / `%u` levels; a filter whose substitution is unsafe (`/`, `+`, `#` in the value) is dropped. */
export const substitute = (filter: string, { clientId, username }: { clientId: string; username: string }): string | undefined => {
  const unsafe = (v: string) => v === "" || /[/+#]/.test(v);
  const levels = filter.split("/").map((level) => {
    if (level === "%c") return unsafe(clientId) ? undefined : clientId;
    if (level === "%u") return unsafe(username) ? undefined : username;
    return level;
  });
  return levels.some((l) => l === undefined) ? undefined : levels.join("/");
};

export type ResolvedAccess = { canPublish: (topic: string) => boolean; canSubscribe: (filter: string) => boolean };

/** The checks for one connected client: its identity's filters with its own id filled in. */
export const resolveAccess = (access: Access, who: { clientId: string; username: string }): ResolvedAccess => {
  const resolve = (filters: string[]) => filters.map((f) => substitute(f, who)).filter((f): f is string => f !== undefined);
  const publish = resolve(access.publish);
  const subscribe = resolve(access.subscribe);
  return {
    canPublish: (topic) => !topic.startsWith(SHARE_PREFIX) && publish.some((f) => filterCovers(f, topic)),
    canSubscribe: (filter) => {
      const inner = unshare(filter);
      return inner !== undefined && subscribe.some((f) => filterCovers(f, inner));
    },
  };
};

/** Merges access tables; a component named twice gets the union of its filters. */
export const mergeAccess = (...tables: AccessTable[]): AccessTable => {
  const merged: AccessTable = {};
  for (const table of tables) {
    for (const [component, access] of Object.entries(table)) {
      const into = (merged[component] ??= { publish: [], subscribe: [] });
      for (const f of access.publish) if (!into.publish.includes(f)) into.publish.push(f);
      for (const f of access.subscribe) if (!into.subscribe.includes(f)) into.subscribe.push(f);
    }
  }
  return merged;
};
