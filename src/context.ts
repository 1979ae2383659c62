// What every resolver receives. Built per request by the server from the Database it was given.
import type { PrismaClient } from './generated/prisma/client.js';
import type { Logger } from './logger.js';

export interface Context {
  prisma: PrismaClient;
  logger: Logger;
  requestId: string;
}
