// Structured logs: one JSON object per line on stdout, so a log shipper needs no parser of its own.
import type { LogLevel } from './config.js';

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function serializeError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  return { name: error.name, message: error.message, stack: error.stack };
}

/**
 * Lines to stdout, written together once per turn of the event loop: a write to a pipe is a
 * system call that blocks the process, and under load a turn logs many requests. What is still
 * waiting when the process exits is written then.
 */
function stdoutLines(): (line: string) => void {
  let pending: string[] = [];
  const flush = () => {
    if (!pending.length) return;
    const text = pending.join('');
    pending = [];
    process.stdout.write(text);
  };
  process.on('exit', flush);
  return (line) => {
    if (pending.push(`${line}\n`) === 1) setImmediate(flush);
  };
}

export function createLogger(level: LogLevel, write: (line: string) => void = stdoutLines()): Logger {
  const log = (at: LogLevel) => (msg: string, fields: LogFields = {}) => {
    if (rank[at] < rank[level]) return;
    const entry: LogFields = { time: new Date().toISOString(), level: at, msg, ...fields };
    if ('error' in entry) entry.error = serializeError(entry.error);
    write(JSON.stringify(entry));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}
