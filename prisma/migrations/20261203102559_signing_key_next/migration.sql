-- AlterTable
ALTER TABLE "signing_keys" ADD COLUMN     "activated_at" TIMESTAMPTZ(3);

-- Every key made before there was a next key signed from the moment it was made.
UPDATE "signing_keys" SET "activated_at" = "created_at";
