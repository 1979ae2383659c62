-- CreateEnum
CREATE TYPE "SessionEventType" AS ENUM ('SESSION_CREATED', 'SESSION_IMPORTED', 'SESSION_ACTIVITY_RECORDED', 'SESSION_EXTENDED', 'SESSION_REVOKED', 'OTHER_SESSIONS_REVOKED', 'SESSION_EXPIRED', 'SESSION_ABANDONED', 'SESSION_TOKEN_ISSUED', 'CREDENTIAL_ADDED', 'CREDENTIAL_REVOKED', 'IDENTITY_CREATED', 'IDENTITY_IMPORTED', 'IDENTITY_STATE_CHANGED');

-- CreateTable
CREATE TABLE "session_events" (
    "id" UUID NOT NULL,
    "sequence" BIGSERIAL NOT NULL,
    "type" "SessionEventType" NOT NULL,
    "identity_id" UUID NOT NULL,
    "session_id" UUID,
    "credential_id" UUID,
    "actor_session_id" UUID,
    "actor_api_client_id" TEXT,
    "reason" TEXT,
    "ip_address" TEXT,
    "details" JSONB,
    "occurred_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "session_events_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "maintenance_marks" (
    "name" TEXT NOT NULL,
    "reached_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "maintenance_marks_pkey" PRIMARY KEY ("name")
);

-- CreateIndex
CREATE UNIQUE INDEX "session_events_sequence_key" ON "session_events"("sequence");

-- CreateIndex
CREATE INDEX "session_events_identity_id_sequence_idx" ON "session_events"("identity_id", "sequence" DESC);

-- CreateIndex
CREATE INDEX "session_events_session_id_sequence_idx" ON "session_events"("session_id", "sequence" DESC);

-- CreateIndex
CREATE INDEX "session_events_type_sequence_idx" ON "session_events"("type", "sequence" DESC);

-- CreateIndex
CREATE INDEX "session_events_occurred_at_idx" ON "session_events"("occurred_at");

-- CreateIndex
CREATE INDEX "sessions_expires_at_idx" ON "sessions"("expires_at");

-- CreateIndex
CREATE INDEX "sessions_abandon_at_idx" ON "sessions"("abandon_at");

-- AddForeignKey
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_credential_id_fkey" FOREIGN KEY ("credential_id") REFERENCES "credentials"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "session_events" ADD CONSTRAINT "session_events_actor_session_id_fkey" FOREIGN KEY ("actor_session_id") REFERENCES "sessions"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- Sessions that lapsed before events existed get no event: the lapse sweep starts from now.
INSERT INTO "maintenance_marks" ("name", "reached_at") VALUES ('session-lapses', now());
