-- Monitoring: one regional store per region (each region's database runs this whole history,
-- and only its own region's rows ever land in it). Plain SQL tables, not Prisma models: the
-- hot paths are multi-row INSERT … ON CONFLICT (dedupe, and rollup merges with LEAST/GREATEST
-- and first/last by time) fed through unnest() arrays, which Prisma's createMany cannot
-- express. "monitoring" is therefore not in schema.prisma's `schemas`; Prisma never diffs it.
CREATE SCHEMA IF NOT EXISTS "monitoring";

CREATE TABLE "monitoring"."site" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "name" TEXT NOT NULL,
    "region" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "lat" DOUBLE PRECISION,
    "lon" DOUBLE PRECISION,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Ingest keys (one sender at one site), raw-data keys (a list of regions) and building
-- gateway passwords. Only the SHA-256 of a key is stored.
CREATE TABLE "monitoring"."api_key" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "hash" TEXT NOT NULL UNIQUE,
    "kind" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "site" TEXT,
    "sender" TEXT,
    "regions" TEXT[] NOT NULL DEFAULT '{}',
    "rate_per_second" DOUBLE PRECISION,
    "created_at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "revoked_at" TIMESTAMPTZ
);

-- Landing zone: one row per stored record (a data item), kept ~6 weeks. The key is the
-- idempotency key (device + dataset + time_event, plus the pack for pms), so duplicates and
-- replays are stored once. `seq` is the ingest order the rollup watermarks refer to.
CREATE TABLE "monitoring"."sample" (
    "seq" BIGSERIAL NOT NULL,
    "dataset" TEXT NOT NULL,
    "device" TEXT NOT NULL,
    "part" TEXT NOT NULL DEFAULT '',
    "time_event" TIMESTAMPTZ NOT NULL,
    "site" TEXT NOT NULL,
    "sender" TEXT NOT NULL,
    "time_zone" TEXT NOT NULL,
    "time_processing" TIMESTAMPTZ NOT NULL,
    "record" JSON NOT NULL,
    CONSTRAINT "sample_pkey" PRIMARY KEY ("dataset", "device", "part", "time_event")
);
-- BRIN: both grow with ingest (seq strictly, time_event nearly), so range scans (rollup
-- recovery, retention) stay cheap while inserts pay almost nothing to maintain them.
CREATE INDEX "sample_seq_idx" ON "monitoring"."sample" USING BRIN ("seq");
CREATE INDEX "sample_time_idx" ON "monitoring"."sample" USING BRIN ("time_event");

-- Rollups: count, sum, min, max, first, last per device, metric and bucket (never avg, so
-- buckets merge). Late data is merged in by upsert.
CREATE TABLE "monitoring"."rollup_1m" (
    "device" TEXT NOT NULL, "metric" TEXT NOT NULL, "bucket" TIMESTAMPTZ NOT NULL, "site" TEXT NOT NULL,
    "count" INTEGER NOT NULL, "sum" DOUBLE PRECISION NOT NULL, "min" DOUBLE PRECISION NOT NULL, "max" DOUBLE PRECISION NOT NULL,
    "first" DOUBLE PRECISION NOT NULL, "first_at" TIMESTAMPTZ NOT NULL, "last" DOUBLE PRECISION NOT NULL, "last_at" TIMESTAMPTZ NOT NULL,
    CONSTRAINT "rollup_1m_pkey" PRIMARY KEY ("device", "metric", "bucket")
);
CREATE TABLE "monitoring"."rollup_1h" (LIKE "monitoring"."rollup_1m" INCLUDING ALL);
CREATE TABLE "monitoring"."rollup_1d" (LIKE "monitoring"."rollup_1m" INCLUDING ALL);
CREATE INDEX "rollup_1m_site_idx" ON "monitoring"."rollup_1m" ("site", "metric", "bucket");
CREATE INDEX "rollup_1h_site_idx" ON "monitoring"."rollup_1h" ("site", "metric", "bucket");
CREATE INDEX "rollup_1d_site_idx" ON "monitoring"."rollup_1d" ("site", "metric", "bucket");
CREATE INDEX "rollup_1m_bucket_idx" ON "monitoring"."rollup_1m" ("bucket");

-- Every landing-zone row with seq <= this is folded into that rollup table.
CREATE TABLE "monitoring"."rollup_watermark" (
    "granularity" TEXT NOT NULL PRIMARY KEY,
    "seq" BIGINT NOT NULL
);
INSERT INTO "monitoring"."rollup_watermark" ("granularity", "seq") VALUES ('1m', 0), ('1h', 0), ('1d', 0);

-- Latest known state per device (written behind the in-memory view, for restarts).
CREATE TABLE "monitoring"."device" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "site" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "first_seen" TIMESTAMPTZ NOT NULL,
    "last_seen" TIMESTAMPTZ NOT NULL,
    "last_event" TIMESTAMPTZ NOT NULL,
    "status" JSON,
    "values" JSON NOT NULL
);
CREATE INDEX "device_site_idx" ON "monitoring"."device" ("site");

CREATE TABLE "monitoring"."alarm" (
    "id" TEXT NOT NULL PRIMARY KEY,
    "site" TEXT NOT NULL,
    "device" TEXT NOT NULL,
    "dataset" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "severity" TEXT NOT NULL,
    "active" BOOLEAN NOT NULL,
    "acknowledged" BOOLEAN NOT NULL DEFAULT false,
    "message" TEXT NOT NULL,
    "details" JSON NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL,
    "cleared_at" TIMESTAMPTZ,
    "acknowledged_at" TIMESTAMPTZ,
    "acknowledged_by" TEXT,
    "ack_comment" TEXT,
    "cleared_by" TEXT,
    "clear_comment" TEXT
);
-- One active alarm per device and type, enforced by the database as well as the engine.
CREATE UNIQUE INDEX "alarm_one_active_idx" ON "monitoring"."alarm" ("device", "type") WHERE "active";
CREATE INDEX "alarm_site_idx" ON "monitoring"."alarm" ("site", "active");
CREATE INDEX "alarm_created_idx" ON "monitoring"."alarm" ("created_at" DESC, "id");

-- The last `system.feature` message (kept in the home region's store).
CREATE TABLE "monitoring"."feature_state" (
    "id" INTEGER NOT NULL PRIMARY KEY DEFAULT 1,
    "message" JSON NOT NULL
);

-- Who read or changed what through the summary, raw-data and admin APIs.
CREATE TABLE "monitoring"."audit" (
    "id" BIGSERIAL NOT NULL PRIMARY KEY,
    "at" TIMESTAMPTZ NOT NULL DEFAULT now(),
    "api" TEXT NOT NULL,
    "actor" TEXT NOT NULL,
    "region" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "status" INTEGER NOT NULL,
    "detail" JSON
);
CREATE INDEX "audit_at_idx" ON "monitoring"."audit" ("at");

CREATE OR REPLACE FUNCTION "monitoring"."audit_append_only"() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'monitoring.audit is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER "audit_no_update" BEFORE UPDATE OR DELETE ON "monitoring"."audit"
  FOR EACH ROW EXECUTE FUNCTION "monitoring"."audit_append_only"();
CREATE TRIGGER "audit_no_truncate" BEFORE TRUNCATE ON "monitoring"."audit"
  FOR EACH STATEMENT EXECUTE FUNCTION "monitoring"."audit_append_only"();
