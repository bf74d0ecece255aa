import { createHash, randomBytes, randomUUID } from "node:crypto";
import { HttpError } from "../lib/http";
import type { CreateKeyBody, SITE_KINDS } from "../../contracts/monitoring";
import type { RegionStore } from "./storage/region-store";

/**
 * Sites and API keys, each kept in the store of the region it belongs to and cached in
 * memory (every request looks its key up). An ingest key is one sender at one site, and so
 * decides the region of everything it posts. A raw-data key lists the regions it may read.
 * Only SHA-256 hashes of keys are stored; the key itself is shown once, when created.
 */
export type Site = { id: string; name: string; region: string; kind: (typeof SITE_KINDS)[number]; lat: number | null; lon: number | null };
export type ApiKey = { id: string; kind: "ingest" | "raw" | "gateway"; name: string; site: string | null; sender: string | null; regions: string[]; ratePerSecond: number | null };

export const hashKey = (key: string) => createHash("sha256").update(key).digest("hex");

export const createRegistry = async (stores: Map<string, RegionStore>) => {
  const sites = new Map<string, Site>();
  const keys = new Map<string, ApiKey>();
  /** (Re)reads every region's sites and keys: an ingest-only process picks up new keys this way. */
  const load = async () => {
    for (const [region, store] of stores) {
    const s = await store.read.query<Site>(`SELECT id, name, region, kind, lat, lon FROM "monitoring"."site" WHERE region = $1`, [region]);
    for (const site of s.rows) sites.set(site.id, site);
    const k = await store.read.query<{ id: string; hash: string; kind: ApiKey["kind"]; name: string; site: string | null; sender: string | null; regions: string[]; rate_per_second: number | null }>(
      `SELECT id, hash, kind, name, site, sender, regions, rate_per_second FROM "monitoring"."api_key" WHERE revoked_at IS NULL`,
    );
    for (const r of k.rows) keys.set(r.hash, { id: r.id, kind: r.kind, name: r.name, site: r.site, sender: r.sender, regions: r.regions, ratePerSecond: r.rate_per_second });
  }
  };
  await load();

  const storeOf = (region: string) => {
    const store = stores.get(region);
    if (!store) throw new HttpError(400, "unknown_region", `this service does not store region ${region} (it stores ${[...stores.keys()].join(", ")})`);
    return store;
  };

  const upsertSite = async (site: Site) => {
    const existing = sites.get(site.id);
    if (existing && existing.region !== site.region) throw new HttpError(409, "site_exists", `site ${site.id} belongs to ${existing.region}; a site never moves region`);
    await storeOf(site.region).write.query(
      `INSERT INTO "monitoring"."site" (id, name, region, kind, lat, lon) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, lat = EXCLUDED.lat, lon = EXCLUDED.lon`,
      [site.id, site.name, site.region, site.kind, site.lat, site.lon],
    );
    sites.set(site.id, site);
    return site;
  };

  /** Creates a key (or stores the given one, for the embedded site's stable demo keys). */
  const createKey = async (body: CreateKeyBody, given?: string) => {
    const secret = given ?? randomBytes(24).toString("base64url");
    const hash = hashKey(secret);
    let key: ApiKey;
    let regions: string[];
    if (body.kind === "raw") {
      regions = [...new Set(body.regions)];
      regions.forEach(storeOf);
      key = { id: randomUUID(), kind: "raw", name: body.name, site: null, sender: null, regions, ratePerSecond: null };
    } else {
      const site = sites.get(body.site);
      if (!site) throw new HttpError(404, "unknown_site", `no site ${body.site}`);
      if (body.kind === "gateway" && site.kind !== "building") throw new HttpError(400, "not_a_building", `site ${site.id} is not a building`);
      regions = [site.region];
      key =
        body.kind === "ingest"
          ? { id: randomUUID(), kind: "ingest", name: body.sender, site: site.id, sender: body.sender, regions, ratePerSecond: body.ratePerSecond ?? null }
          : { id: randomUUID(), kind: "gateway", name: `gateway ${site.id}`, site: site.id, sender: `gw-${site.id}`, regions, ratePerSecond: null };
    }
    const existing = keys.get(hash);
    if (existing) return { key: existing, secret };
    for (const region of regions) {
      await storeOf(region).write.query(
        `INSERT INTO "monitoring"."api_key" (id, hash, kind, name, site, sender, regions, rate_per_second) VALUES ($1, $2, $3, $4, $5, $6, $7::text[], $8) ON CONFLICT (hash) DO NOTHING`,
        [key.id, hash, key.kind, key.name, key.site, key.sender, key.regions, key.ratePerSecond],
      );
    }
    keys.set(hash, key);
    return { key, secret };
  };

  return {
    load,
    sites: () => sites.values(),
    site: (id: string) => sites.get(id),
    sitesIn: (region: string) => [...sites.values()].filter((s) => s.region === region),
    upsertSite,
    createKey,
    lookup: (secret: string | undefined) => (secret ? keys.get(hashKey(secret)) : undefined),
    /** A gateway's password check (MQTT): the key must be this building's gateway key. */
    checkGateway: (region: string, building: string, password: string) => {
      const key = keys.get(hashKey(password));
      return Boolean(key && key.kind === "gateway" && key.site === building && sites.get(building)?.region === region);
    },
  };
};
export type Registry = Awaited<ReturnType<typeof createRegistry>>;
