-- CreateTable
CREATE TABLE "signing_keys" (
    "id" TEXT NOT NULL,
    "algorithm" TEXT NOT NULL,
    "public_jwk" JSONB NOT NULL,
    "sealed_private_key" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "retired_at" TIMESTAMPTZ(3),
    "published_until" TIMESTAMPTZ(3),

    CONSTRAINT "signing_keys_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "jwt_templates" (
    "id" UUID NOT NULL,
    "name" TEXT NOT NULL,
    "claims" JSONB NOT NULL DEFAULT '{}',
    "lifetime_seconds" INTEGER NOT NULL DEFAULT 60,
    "allowed_clock_skew_seconds" INTEGER NOT NULL DEFAULT 5,
    "algorithm" TEXT NOT NULL DEFAULT 'RS256',
    "subject_source" TEXT NOT NULL DEFAULT 'id',
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "jwt_templates_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "signing_keys_algorithm_retired_at_idx" ON "signing_keys"("algorithm", "retired_at");

-- CreateIndex
CREATE UNIQUE INDEX "jwt_templates_name_key" ON "jwt_templates"("name");
