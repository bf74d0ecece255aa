-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "rmf";

-- CreateTable
CREATE TABLE "rmf"."sticky_state" (
    "room" TEXT NOT NULL,
    "kind" TEXT NOT NULL,
    "state" JSONB NOT NULL,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sticky_state_pkey" PRIMARY KEY ("room")
);

-- CreateTable
CREATE TABLE "rmf"."task" (
    "id" TEXT NOT NULL,
    "category" TEXT,
    "status" TEXT,
    "requester" TEXT,
    "fleet" TEXT,
    "robot" TEXT,
    "labels" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "requestTime" BIGINT,
    "startTime" BIGINT,
    "finishTime" BIGINT,
    "durationMs" BIGINT,
    "state" JSONB NOT NULL,
    "request" JSONB,
    "updatedAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "task_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rmf"."task_log" (
    "id" BIGSERIAL NOT NULL,
    "taskId" TEXT NOT NULL,
    "phase" TEXT,
    "event" TEXT,
    "seq" INTEGER NOT NULL,
    "tier" TEXT NOT NULL,
    "unixMillisTime" BIGINT NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "task_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rmf"."fleet_log" (
    "id" BIGSERIAL NOT NULL,
    "fleet" TEXT NOT NULL,
    "robot" TEXT,
    "seq" INTEGER NOT NULL,
    "tier" TEXT NOT NULL,
    "unixMillisTime" BIGINT NOT NULL,
    "text" TEXT NOT NULL,

    CONSTRAINT "fleet_log_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "rmf"."alert" (
    "id" TEXT NOT NULL,
    "taskId" TEXT,
    "alertTime" BIGINT NOT NULL,
    "request" JSONB NOT NULL,
    "response" JSONB,
    "respondedAt" BIGINT,

    CONSTRAINT "alert_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "sticky_state_kind_idx" ON "rmf"."sticky_state"("kind");

-- CreateIndex
CREATE INDEX "task_status_idx" ON "rmf"."task"("status");

-- CreateIndex
CREATE INDEX "task_requestTime_idx" ON "rmf"."task"("requestTime");

-- CreateIndex
CREATE INDEX "task_startTime_idx" ON "rmf"."task"("startTime");

-- CreateIndex
CREATE INDEX "task_finishTime_idx" ON "rmf"."task"("finishTime");

-- CreateIndex
CREATE INDEX "task_robot_idx" ON "rmf"."task"("robot");

-- CreateIndex
CREATE INDEX "task_log_taskId_unixMillisTime_idx" ON "rmf"."task_log"("taskId", "unixMillisTime");

-- CreateIndex
CREATE INDEX "fleet_log_fleet_unixMillisTime_idx" ON "rmf"."fleet_log"("fleet", "unixMillisTime");

-- CreateIndex
CREATE INDEX "alert_taskId_idx" ON "rmf"."alert"("taskId");

-- CreateIndex
CREATE INDEX "alert_alertTime_idx" ON "rmf"."alert"("alertTime");

