// CLERK endpoints send Clerk's Session JSON as `data`, written by the same serializer as the Clerk
// REST routes (src/vendors/clerk/session-json.ts): webhooks have no copy of their own.
import type { PrismaClient } from '../generated/prisma/client.js';
import { clerkSessionJson } from '../vendors/clerk/session-json.js';

/** Clerk's Session JSON for a stored session as it reads now, or undefined when there is none. */
export type ClerkSessionData = (prisma: PrismaClient, sessionId: string) => Promise<object | undefined>;

export const clerkSessionData: ClerkSessionData = async (prisma, sessionId) => {
  const session = await prisma.session.findUnique({
    where: { id: sessionId },
    include: {
      identity: { select: { id: true, externalSource: true, externalId: true } },
      devices: { orderBy: { lastSeenAt: 'desc' }, take: 1, select: { id: true, externalId: true, ipAddress: true, location: true, userAgent: true } },
    },
  });
  return session ? clerkSessionJson(session, new Date()) : undefined;
};
