// CLERK endpoints send Clerk's Session JSON as `data`, written by the same serializer as the Clerk
// REST routes (src/vendors/clerk/session-json.ts): webhooks have no copy of their own.
import type { PrismaClient } from '../generated/prisma/client.js';

/** Clerk's Session JSON for a stored session, or undefined when there is none. */
export type ClerkSessionData = (prisma: PrismaClient, sessionId: string) => Promise<Record<string, unknown> | undefined>;

export const clerkSessionData: ClerkSessionData = async () => {
  throw new Error('Clerk Session JSON is not wired yet (src/vendors/clerk/session-json.ts)');
};
