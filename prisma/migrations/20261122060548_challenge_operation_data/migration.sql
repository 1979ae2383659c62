-- AlterTable
ALTER TABLE "challenges" ADD COLUMN     "operation_data" JSONB;
