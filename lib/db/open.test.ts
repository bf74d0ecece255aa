import pg from "pg";
import { afterEach, describe, expect, it } from "vitest";
import { usingServices } from "../testing/db";
import { createScratchDatabase } from "../testing/pg";
import { openDatabase } from "./open";

/**
 * The PostgreSQL handle's raw SQL runs one query at a time on its one connection, however
 * many callers ask at once: pg's queue for a busy client is deprecated (a warning in every
 * service that answers reads concurrently) and goes away in pg 9.
 */
describe.skipIf(!usingServices())("openDatabase on PostgreSQL", () => {
  const original = pg.Client.prototype.query;
  afterEach(() => {
    pg.Client.prototype.query = original;
  });

  it("never hands the client a query while another is in flight, and answers every caller in order", async () => {
    const scratch = await createScratchDatabase();
    const database = await openDatabase({ processName: "test", databaseUrl: scratch.url });
    let inFlight = 0;
    let most = 0;
    pg.Client.prototype.query = function (this: pg.Client, ...args: unknown[]) {
      inFlight++;
      most = Math.max(most, inFlight);
      const result = (original as (...a: unknown[]) => Promise<unknown>).apply(this, args);
      return Promise.resolve(result).finally(() => inFlight--);
    } as typeof original;
    try {
      const answers = await Promise.all(Array.from({ length: 12 }, (_, i) => database.sql.query<{ n: number }>("SELECT $1::int AS n, pg_sleep(0.01)", [i])));
      expect(answers.map((a) => a.rows[0].n)).toEqual(Array.from({ length: 12 }, (_, i) => i));
      // A failing query answers its caller with the error and does not stall the ones behind it.
      const [bad, good] = await Promise.allSettled([database.sql.query("SELECT * FROM no_such_table"), database.sql.query<{ ok: number }>("SELECT 1 AS ok")]);
      expect(bad.status).toBe("rejected");
      expect(good.status === "fulfilled" && good.value.rows[0].ok).toBe(1);
      expect(most).toBe(1);
    } finally {
      pg.Client.prototype.query = original;
      await database.close();
      await scratch.drop();
    }
  });
});
