-- Sign-in throttling: attempts per (account, client address) and per address (email = ''),
-- counted with one atomic upsert before the password is checked (server/auth/sign-in-throttle.ts).

-- CreateTable
CREATE TABLE "console"."sign_in_throttle" (
    "email" TEXT NOT NULL DEFAULT '',
    "ip" TEXT NOT NULL,
    "attempts" INTEGER NOT NULL,
    "lastAttemptAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "sign_in_throttle_pkey" PRIMARY KEY ("email","ip")
);

-- CreateIndex
CREATE INDEX "sign_in_throttle_lastAttemptAt_idx" ON "console"."sign_in_throttle"("lastAttemptAt");
