// A request's id and its log line: shared by the app's request log and the listener's own answer to
// /healthz before the app exists (so this module needs nothing but Node).
import { randomUUID } from 'node:crypto';
import type { Logger } from '../logger.js';

const requestIdPattern = /^[\w.:-]{1,128}$/;

/** The caller's (or proxy's) X-Request-Id if it is sane, so one id follows a request across services; else a new one. */
export function requestIdFor(given: string | null | undefined): string {
  return given && requestIdPattern.test(given) ? given : randomUUID();
}

/** The one JSON log line every request gets. */
export function logRequest(logger: Logger, line: { requestId: string; method: string; path: string; status: number; startedAt: number }): void {
  logger.info('request', {
    requestId: line.requestId,
    method: line.method,
    path: line.path,
    status: line.status,
    durationMs: Math.round((performance.now() - line.startedAt) * 100) / 100,
  });
}
