import fs from "node:fs";
import path from "node:path";
import { applyWrites, COLLECTIONS, emptyState, type Collection, type FlexStore, type StoreWrite } from "./store";

/**
 * An append-only journal (`<dir>/<nodeId>.journal`, one JSON array per line:
 * `[collection, key, value|null]`). A batch is one write(2), so a kill -9 loses nothing
 * that `write` resolved for (the data is in the kernel's page cache). When the journal
 * holds far more lines than live entries, it is rewritten to its live state and renamed
 * over the old one.
 */
export const createFileStore = ({ dir, nodeId }: { dir: string; nodeId: string }): FlexStore => {
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${nodeId}.journal`);
  let state = emptyState();
  let lines = 0;
  let fd: number | undefined;
  let chain = Promise.resolve();

  const live = () => COLLECTIONS.reduce((n, c) => n + state[c].size, 0);
  const encode = (batch: StoreWrite[]) => batch.map((w) => JSON.stringify([w.collection, w.key, w.value])).join("\n") + "\n";

  const compact = () => {
    const all: StoreWrite[] = [];
    for (const c of COLLECTIONS) for (const [key, value] of state[c]) all.push({ collection: c, key, value });
    const tmp = `${file}.tmp`;
    fs.writeFileSync(tmp, all.length ? encode(all) : "");
    if (fd !== undefined) fs.closeSync(fd);
    fs.renameSync(tmp, file);
    fd = fs.openSync(file, "a");
    lines = all.length;
  };

  return {
    kind: "file",
    load: async () => {
      state = emptyState();
      lines = 0;
      if (fs.existsSync(file)) {
        const text = fs.readFileSync(file, "utf8");
        for (const line of text.split("\n")) {
          if (!line) continue;
          // A torn last line (power loss mid-write) is skipped; everything before it stands.
          let entry: [Collection, string, unknown];
          try {
            entry = JSON.parse(line) as [Collection, string, unknown];
          } catch {
            continue;
          }
          if (!COLLECTIONS.includes(entry[0])) continue;
          applyWrites(state, [{ collection: entry[0], key: entry[1], value: entry[2] }]);
          lines++;
        }
      }
      fd = fs.openSync(file, "a");
      const copy = emptyState();
      for (const c of COLLECTIONS) for (const [k, v] of state[c]) copy[c].set(k, v);
      return copy;
    },
    write: (batch) => {
      if (batch.length === 0) return chain;
      chain = chain.then(() => {
        if (fd === undefined) fd = fs.openSync(file, "a");
        fs.writeSync(fd, encode(batch));
        applyWrites(state, batch);
        lines += batch.length;
        if (lines > 10_000 && lines > 4 * live()) compact();
      });
      return chain;
    },
    close: async () => {
      await chain;
      if (fd !== undefined) fs.closeSync(fd);
      fd = undefined;
    },
  };
};
