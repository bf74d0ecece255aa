-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "csms";

-- CreateTable
CREATE TABLE "csms"."station" (
    "id" TEXT NOT NULL,
    "protocol" TEXT,
    "passwordHash" TEXT,
    "securityProfile" INTEGER NOT NULL DEFAULT 0,
    "invalidUsernameAllowed" BOOLEAN NOT NULL DEFAULT false,
    "registeredAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "vendor" TEXT,
    "model" TEXT,
    "firmwareVersion" TEXT,
    "serialNumber" TEXT,
    "heartbeatIntervalSec" INTEGER NOT NULL DEFAULT 60,
    "bootedAt" TIMESTAMP(3),
    "lastSeenAt" TIMESTAMP(3),
    "gateway" TEXT,

    CONSTRAINT "station_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "csms"."connector" (
    "stationId" TEXT NOT NULL,
    "evseId" INTEGER NOT NULL,
    "connectorId" INTEGER NOT NULL,
    "status" TEXT NOT NULL,
    "errorCode" TEXT,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "connector_pkey" PRIMARY KEY ("stationId","evseId","connectorId")
);

-- CreateTable
CREATE TABLE "csms"."transaction" (
    "id" TEXT NOT NULL,
    "seq" SERIAL NOT NULL,
    "stationId" TEXT NOT NULL,
    "transactionId" TEXT NOT NULL,
    "evseId" INTEGER NOT NULL,
    "connectorId" INTEGER NOT NULL,
    "idTag" TEXT,
    "startedAt" TIMESTAMP(3) NOT NULL,
    "stoppedAt" TIMESTAMP(3),
    "meterStartWh" DOUBLE PRECISION,
    "meterStopWh" DOUBLE PRECISION,
    "energyWh" DOUBLE PRECISION NOT NULL DEFAULT 0,
    "powerW" DOUBLE PRECISION,
    "socPct" DOUBLE PRECISION,
    "stopReason" TEXT,
    "active" BOOLEAN NOT NULL DEFAULT true,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "transaction_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "csms"."meter_sample" (
    "id" BIGSERIAL NOT NULL,
    "stationId" TEXT NOT NULL,
    "transactionId" TEXT,
    "evseId" INTEGER NOT NULL,
    "connectorId" INTEGER NOT NULL,
    "at" TIMESTAMP(3) NOT NULL,
    "powerW" DOUBLE PRECISION,
    "energyWh" DOUBLE PRECISION,
    "socPct" DOUBLE PRECISION,

    CONSTRAINT "meter_sample_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "csms"."token" (
    "idTag" TEXT NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'Accepted',
    "expiresAt" TIMESTAMP(3),
    "note" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "token_pkey" PRIMARY KEY ("idTag")
);

-- CreateTable
CREATE TABLE "csms"."message_log" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "stationId" TEXT NOT NULL,
    "direction" TEXT NOT NULL,
    "type" INTEGER NOT NULL,
    "action" TEXT,
    "messageId" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "errorCode" TEXT,

    CONSTRAINT "message_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "csms"."station_config" (
    "stationId" TEXT NOT NULL,
    "key" TEXT NOT NULL DEFAULT '',
    "component" TEXT NOT NULL DEFAULT '',
    "variable" TEXT NOT NULL DEFAULT '',
    "value" TEXT,
    "readonly" BOOLEAN,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "station_config_pkey" PRIMARY KEY ("stationId","key","component","variable")
);

-- CreateIndex
CREATE UNIQUE INDEX "transaction_seq_key" ON "csms"."transaction"("seq");

-- CreateIndex
CREATE INDEX "transaction_stationId_active_idx" ON "csms"."transaction"("stationId", "active");

-- CreateIndex
CREATE INDEX "transaction_startedAt_idx" ON "csms"."transaction"("startedAt");

-- CreateIndex
CREATE UNIQUE INDEX "transaction_stationId_transactionId_key" ON "csms"."transaction"("stationId", "transactionId");

-- CreateIndex
CREATE INDEX "meter_sample_transactionId_at_idx" ON "csms"."meter_sample"("transactionId", "at");

-- CreateIndex
CREATE INDEX "meter_sample_stationId_at_idx" ON "csms"."meter_sample"("stationId", "at");

-- CreateIndex
CREATE INDEX "message_log_stationId_at_idx" ON "csms"."message_log"("stationId", "at");

-- CreateIndex
CREATE INDEX "message_log_at_idx" ON "csms"."message_log"("at");

-- AddForeignKey
ALTER TABLE "csms"."connector" ADD CONSTRAINT "connector_stationId_fkey" FOREIGN KEY ("stationId") REFERENCES "csms"."station"("id") ON DELETE CASCADE ON UPDATE CASCADE;

