-- CreateTable
CREATE TABLE "csms"."command_result" (
    "commandId" TEXT NOT NULL,
    "stationId" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "status" TEXT NOT NULL,
    "ocppAction" TEXT,
    "request" JSONB,
    "response" JSONB,
    "errorCode" TEXT,
    "errorDescription" TEXT,
    "receivedAt" TIMESTAMP(3) NOT NULL,
    "completedAt" TIMESTAMP(3),
    "deadlineAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "command_result_pkey" PRIMARY KEY ("commandId")
);

-- CreateIndex
CREATE INDEX "command_result_receivedAt_idx" ON "csms"."command_result"("receivedAt");
