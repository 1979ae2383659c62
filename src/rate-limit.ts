// Fixed-window counters for rate limits. In memory by default; in Redis when REDIS_URL is set, so
// every server instance counts against the same limit. When Redis stops answering, counting goes on
// in this process's memory (logged once, shown by /readyz) until Redis answers again.
import { ConfigError, redactUrl } from './config.js';
import type { Logger } from './logger.js';

export interface WindowCount {
  count: number;
  /** Milliseconds until the window resets. */
  resetMs: number;
}

export interface RateLimitStore {
  /** Counts one event for `key` and returns the count so far in this window. */
  hit(key: string, windowMs: number): Promise<WindowCount>;
  /** The count so far, without counting. */
  peek(key: string): Promise<WindowCount>;
  /** Whether counts are where they should be: false while a Redis store counts locally instead. */
  healthy(): boolean;
  close(): Promise<void>;
}

export function memoryStore(now: () => number = Date.now): RateLimitStore {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const current = (key: string) => {
    const window = windows.get(key);
    if (window && window.resetAt <= now()) {
      windows.delete(key);
      return undefined;
    }
    return window;
  };
  // Forget expired windows now and then, so idle keys do not pile up.
  const sweep = setInterval(() => {
    for (const key of windows.keys()) current(key);
  }, 60_000);
  sweep.unref();
  return {
    async hit(key, windowMs) {
      const window = current(key) ?? { count: 0, resetAt: now() + windowMs };
      window.count++;
      windows.set(key, window);
      return { count: window.count, resetMs: window.resetAt - now() };
    },
    async peek(key) {
      const window = current(key);
      return window ? { count: window.count, resetMs: window.resetAt - now() } : { count: 0, resetMs: 0 };
    },
    healthy: () => true,
    async close() {
      clearInterval(sweep);
      windows.clear();
    },
  };
}

// INCR and set the expiry in one step, so a crash between them cannot leave a counter forever.
const hitScript = `
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return { count, redis.call('PTTL', KEYS[1]) }`;

export async function redisStore(url: string, logger?: Logger, prefix = 'sessiongraph:ratelimit:'): Promise<RateLimitStore> {
  // Loaded only where REDIS_URL is set (4 MB of the server's memory once loaded).
  const { Redis } = await import('ioredis');
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 3000, enableOfflineQueue: false });
  redis.on('error', () => {}); // reported through the commands that fail
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new ConfigError('REDIS_URL', `cannot connect to ${redactUrl(url)}: ${(error as Error).message}`);
  }
  // While Redis is away, limits still hold per instance: a counter in memory, never a failed request.
  const local = memoryStore();
  let degraded = false;
  const fallBack = (error: unknown) => {
    if (!degraded) logger?.error('rate-limit store unreachable: counting in this process until Redis answers', { redis: redactUrl(url), error: (error as Error).message });
    degraded = true;
  };
  // ioredis reconnects by itself; while degraded, a ping now and then (never on a request's path)
  // finds out when Redis answers again.
  let probing = false;
  let lastProbe = 0;
  const useRedis = () => {
    if (!degraded) return true;
    if (!probing && Date.now() - lastProbe >= 1000) {
      probing = true;
      lastProbe = Date.now();
      redis
        .ping()
        .then(() => {
          degraded = false;
          logger?.info('rate-limit store reachable again', { redis: redactUrl(url) });
        })
        .catch(() => {})
        .finally(() => (probing = false));
    }
    return false;
  };
  return {
    async hit(key, windowMs) {
      if (useRedis()) {
        try {
          const [count, ttl] = (await redis.eval(hitScript, 1, prefix + key, windowMs)) as [number, number];
          return { count, resetMs: Math.max(ttl, 0) };
        } catch (error) {
          fallBack(error);
        }
      }
      return local.hit(key, windowMs);
    },
    async peek(key) {
      if (useRedis()) {
        try {
          const [count, ttl] = await Promise.all([redis.get(prefix + key), redis.pttl(prefix + key)]);
          return { count: Number(count ?? 0), resetMs: Math.max(ttl, 0) };
        } catch (error) {
          fallBack(error);
        }
      }
      return local.peek(key);
    },
    healthy: () => useRedis(),
    async close() {
      await local.close();
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function openRateLimitStore(redisUrl: string | undefined, logger?: Logger): Promise<RateLimitStore> {
  return redisUrl ? redisStore(redisUrl, logger) : Promise.resolve(memoryStore());
}
