-- Flex: the EV-charger bridges operators chose (server/flex/ev-bridge.ts), restored when the console starts.
-- CreateTable
CREATE TABLE "console"."flex_ev_bridge" (
    "stationId" TEXT NOT NULL,
    "nodeId" TEXT NOT NULL,
    "gridNodeId" TEXT NOT NULL,
    "maxPowerW" INTEGER NOT NULL,
    "unitPrice" DOUBLE PRECISION,
    "actorId" TEXT NOT NULL,
    "actorEmail" TEXT NOT NULL,
    "actorRole" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "flex_ev_bridge_pkey" PRIMARY KEY ("stationId")
);

