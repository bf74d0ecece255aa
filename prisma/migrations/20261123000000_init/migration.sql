-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "console";

-- CreateTable
CREATE TABLE "console"."user" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "emailVerified" BOOLEAN NOT NULL DEFAULT false,
    "image" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "role" TEXT NOT NULL DEFAULT 'viewer',
    "participantId" TEXT,
    "regions" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "disabled" BOOLEAN NOT NULL DEFAULT false,

    CONSTRAINT "user_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console"."session" (
    "id" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "token" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,
    "ipAddress" TEXT,
    "userAgent" TEXT,
    "userId" TEXT NOT NULL,

    CONSTRAINT "session_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console"."account" (
    "id" TEXT NOT NULL,
    "accountId" TEXT NOT NULL,
    "providerId" TEXT NOT NULL,
    "userId" TEXT NOT NULL,
    "accessToken" TEXT,
    "refreshToken" TEXT,
    "idToken" TEXT,
    "accessTokenExpiresAt" TIMESTAMP(3),
    "refreshTokenExpiresAt" TIMESTAMP(3),
    "scope" TEXT,
    "password" TEXT,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "account_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console"."verification" (
    "id" TEXT NOT NULL,
    "identifier" TEXT NOT NULL,
    "value" TEXT NOT NULL,
    "expiresAt" TIMESTAMP(3) NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "verification_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console"."participant" (
    "id" TEXT NOT NULL,
    "role" TEXT NOT NULL,
    "name" TEXT NOT NULL,

    CONSTRAINT "participant_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console"."audit_entry" (
    "id" BIGSERIAL NOT NULL,
    "at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "actorId" TEXT,
    "actorEmail" TEXT,
    "actorRole" TEXT,
    "action" TEXT NOT NULL,
    "target" TEXT,
    "input" JSONB,
    "outcome" TEXT NOT NULL,
    "error" TEXT,
    "traceId" TEXT NOT NULL,
    "ip" TEXT,

    CONSTRAINT "audit_entry_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "console"."command" (
    "id" TEXT NOT NULL,
    "idempotencyKey" TEXT NOT NULL,
    "actorId" TEXT NOT NULL,
    "actorEmail" TEXT NOT NULL,
    "domain" TEXT NOT NULL,
    "target" TEXT NOT NULL,
    "action" TEXT NOT NULL,
    "payload" JSONB NOT NULL,
    "status" TEXT NOT NULL DEFAULT 'pending',
    "result" JSONB,
    "error" TEXT,
    "traceId" TEXT NOT NULL,
    "createdAt" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "sentAt" TIMESTAMP(3),
    "completedAt" TIMESTAMP(3),
    "updatedAt" TIMESTAMP(3) NOT NULL,

    CONSTRAINT "command_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE UNIQUE INDEX "user_email_key" ON "console"."user"("email");

-- CreateIndex
CREATE UNIQUE INDEX "session_token_key" ON "console"."session"("token");

-- CreateIndex
CREATE INDEX "session_userId_idx" ON "console"."session"("userId");

-- CreateIndex
CREATE INDEX "account_userId_idx" ON "console"."account"("userId");

-- CreateIndex
CREATE INDEX "verification_identifier_idx" ON "console"."verification"("identifier");

-- CreateIndex
CREATE INDEX "audit_entry_at_idx" ON "console"."audit_entry"("at");

-- CreateIndex
CREATE INDEX "audit_entry_actorEmail_at_idx" ON "console"."audit_entry"("actorEmail", "at");

-- CreateIndex
CREATE INDEX "audit_entry_action_at_idx" ON "console"."audit_entry"("action", "at");

-- CreateIndex
CREATE INDEX "command_createdAt_idx" ON "console"."command"("createdAt");

-- CreateIndex
CREATE INDEX "command_domain_target_createdAt_idx" ON "console"."command"("domain", "target", "createdAt");

-- CreateIndex
CREATE UNIQUE INDEX "command_actorId_idempotencyKey_key" ON "console"."command"("actorId", "idempotencyKey");

-- AddForeignKey
ALTER TABLE "console"."user" ADD CONSTRAINT "user_participantId_fkey" FOREIGN KEY ("participantId") REFERENCES "console"."participant"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "console"."session" ADD CONSTRAINT "session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "console"."user"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "console"."account" ADD CONSTRAINT "account_userId_fkey" FOREIGN KEY ("userId") REFERENCES "console"."user"("id") ON DELETE CASCADE ON UPDATE CASCADE;


-- The audit log is append-only: nobody, not even the console's own role, may edit or erase it.
CREATE OR REPLACE FUNCTION "console"."audit_entry_append_only"() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'audit_entry is append-only (% refused)', TG_OP USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER "audit_entry_no_update" BEFORE UPDATE OR DELETE ON "console"."audit_entry"
  FOR EACH ROW EXECUTE FUNCTION "console"."audit_entry_append_only"();
CREATE TRIGGER "audit_entry_no_truncate" BEFORE TRUNCATE ON "console"."audit_entry"
  FOR EACH STATEMENT EXECUTE FUNCTION "console"."audit_entry_append_only"();
