-- CreateEnum
CREATE TYPE "Vendor" AS ENUM ('GRID', 'KRATOS', 'CLERK');

-- CreateEnum
CREATE TYPE "IdentityState" AS ENUM ('ACTIVE', 'INACTIVE');

-- CreateEnum
CREATE TYPE "CredentialType" AS ENUM ('OAUTH', 'EMAIL_OTP', 'PASSKEY', 'PASSWORD', 'OIDC', 'SAML', 'WEBAUTHN', 'TOTP', 'LOOKUP_SECRET', 'CODE', 'CODE_RECOVERY', 'LINK_RECOVERY', 'PROFILE', 'LEGACY_SESSION');

-- CreateEnum
CREATE TYPE "SessionStatus" AS ENUM ('ACTIVE', 'REVOKED', 'ENDED', 'EXPIRED', 'REMOVED', 'ABANDONED', 'REPLACED', 'PENDING');

-- CreateEnum
CREATE TYPE "AuthenticatorAssuranceLevel" AS ENUM ('AAL0', 'AAL1', 'AAL2', 'AAL3');

-- CreateEnum
CREATE TYPE "ChallengeOperation" AS ENUM ('REVOKE_SESSION', 'REVOKE_OTHER_SESSIONS', 'ADD_CREDENTIAL', 'REVOKE_CREDENTIAL');

-- CreateEnum
CREATE TYPE "ApiClientScope" AS ENUM ('ADMIN', 'READ');

-- CreateTable
CREATE TABLE "identities" (
    "id" UUID NOT NULL,
    "external_source" "Vendor",
    "external_id" TEXT,
    "schema_id" TEXT,
    "schema_url" TEXT,
    "traits" JSONB NOT NULL DEFAULT '{}',
    "state" "IdentityState" NOT NULL DEFAULT 'ACTIVE',
    "state_changed_at" TIMESTAMPTZ(3),
    "metadata_public" JSONB,
    "metadata_admin" JSONB,
    "organization_id" TEXT,
    "vendor_extra" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "identities_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "verifiable_addresses" (
    "id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "external_id" TEXT,
    "value" TEXT NOT NULL,
    "via" TEXT NOT NULL,
    "verified" BOOLEAN NOT NULL DEFAULT false,
    "verified_at" TIMESTAMPTZ(3),
    "status" TEXT NOT NULL DEFAULT 'pending',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "verifiable_addresses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "recovery_addresses" (
    "id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "external_id" TEXT,
    "value" TEXT NOT NULL,
    "via" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "recovery_addresses_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "credentials" (
    "id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "external_id" TEXT,
    "type" "CredentialType" NOT NULL,
    "identifiers" TEXT[] DEFAULT ARRAY[]::TEXT[],
    "config" JSONB NOT NULL DEFAULT '{}',
    "version" INTEGER NOT NULL DEFAULT 0,
    "nickname" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "credentials_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "sessions" (
    "id" UUID NOT NULL,
    "identity_id" UUID NOT NULL,
    "external_source" "Vendor",
    "external_id" TEXT,
    "type" "CredentialType",
    "nickname" TEXT,
    "status" "SessionStatus" NOT NULL DEFAULT 'ACTIVE',
    "aal" "AuthenticatorAssuranceLevel",
    "authentication_methods" JSONB NOT NULL DEFAULT '[]',
    "client_id" TEXT,
    "actor" JSONB,
    "last_active_organization_id" TEXT,
    "last_active_at" TIMESTAMPTZ(3),
    "issued_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "authenticated_at" TIMESTAMPTZ(3),
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3),
    "abandon_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),
    "revoked_by_session_id" UUID,
    "signing_public_key" BYTEA,
    "encrypted_signing_key" TEXT,
    "token_hash" BYTEA,
    "tokenized" TEXT,
    "vendor_extra" JSONB,

    CONSTRAINT "sessions_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "devices" (
    "id" UUID NOT NULL,
    "session_id" UUID NOT NULL,
    "external_id" TEXT,
    "ip_address" TEXT,
    "location" TEXT,
    "user_agent" TEXT,
    "first_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_seen_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "devices_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "challenges" (
    "id" UUID NOT NULL,
    "request_id" TEXT NOT NULL,
    "identity_id" UUID NOT NULL,
    "operation" "ChallengeOperation" NOT NULL,
    "target_id" UUID NOT NULL,
    "credential_type" "CredentialType",
    "payload_to_sign" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,
    "consumed_at" TIMESTAMPTZ(3),
    "signer_session_id" UUID,

    CONSTRAINT "challenges_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "api_clients" (
    "id" TEXT NOT NULL,
    "secret_hash" TEXT NOT NULL,
    "scope" "ApiClientScope" NOT NULL DEFAULT 'READ',
    "name" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "last_used_at" TIMESTAMPTZ(3),
    "revoked_at" TIMESTAMPTZ(3),

    CONSTRAINT "api_clients_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "identities_created_at_id_idx" ON "identities"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "identities_external_source_external_id_key" ON "identities"("external_source", "external_id");

-- CreateIndex
CREATE INDEX "verifiable_addresses_identity_id_idx" ON "verifiable_addresses"("identity_id");

-- CreateIndex
CREATE INDEX "recovery_addresses_identity_id_idx" ON "recovery_addresses"("identity_id");

-- CreateIndex
CREATE INDEX "credentials_identity_id_type_idx" ON "credentials"("identity_id", "type");

-- CreateIndex
CREATE UNIQUE INDEX "sessions_token_hash_key" ON "sessions"("token_hash");

-- CreateIndex
CREATE INDEX "sessions_identity_id_created_at_id_idx" ON "sessions"("identity_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "sessions_identity_id_status_idx" ON "sessions"("identity_id", "status");

-- CreateIndex
CREATE INDEX "sessions_client_id_created_at_id_idx" ON "sessions"("client_id", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "sessions_status_created_at_id_idx" ON "sessions"("status", "created_at" DESC, "id" DESC);

-- CreateIndex
CREATE INDEX "sessions_created_at_id_idx" ON "sessions"("created_at" DESC, "id" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "sessions_external_source_external_id_key" ON "sessions"("external_source", "external_id");

-- CreateIndex
CREATE INDEX "devices_session_id_last_seen_at_idx" ON "devices"("session_id", "last_seen_at" DESC);

-- CreateIndex
CREATE UNIQUE INDEX "challenges_request_id_key" ON "challenges"("request_id");

-- CreateIndex
CREATE INDEX "challenges_identity_id_created_at_idx" ON "challenges"("identity_id", "created_at" DESC);

-- AddForeignKey
ALTER TABLE "verifiable_addresses" ADD CONSTRAINT "verifiable_addresses_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "recovery_addresses" ADD CONSTRAINT "recovery_addresses_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "credentials" ADD CONSTRAINT "credentials_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "sessions" ADD CONSTRAINT "sessions_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "devices" ADD CONSTRAINT "devices_session_id_fkey" FOREIGN KEY ("session_id") REFERENCES "sessions"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "challenges" ADD CONSTRAINT "challenges_identity_id_fkey" FOREIGN KEY ("identity_id") REFERENCES "identities"("id") ON DELETE CASCADE ON UPDATE CASCADE;
