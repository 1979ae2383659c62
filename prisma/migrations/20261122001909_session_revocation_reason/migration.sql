-- AlterTable
ALTER TABLE "sessions" ADD COLUMN     "revocation_reason" TEXT;
