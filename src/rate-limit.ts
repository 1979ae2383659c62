// Fixed-window counters for rate limits. In memory by default; in Redis when REDIS_URL is set, so
// every server instance counts against the same limit.
import { Redis } from 'ioredis';
import { ConfigError, redactUrl } from './config.js';

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

export async function redisStore(url: string, prefix = 'sessiongraph:ratelimit:'): Promise<RateLimitStore> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 2, connectTimeout: 3000, enableOfflineQueue: false });
  redis.on('error', () => {}); // reported through the commands that fail
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    redis.disconnect();
    throw new ConfigError('REDIS_URL', `cannot connect to ${redactUrl(url)}: ${(error as Error).message}`);
  }
  return {
    async hit(key, windowMs) {
      const [count, ttl] = (await redis.eval(hitScript, 1, prefix + key, windowMs)) as [number, number];
      return { count, resetMs: Math.max(ttl, 0) };
    },
    async peek(key) {
      const [count, ttl] = await Promise.all([redis.get(prefix + key), redis.pttl(prefix + key)]);
      return { count: Number(count ?? 0), resetMs: Math.max(ttl, 0) };
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export function openRateLimitStore(redisUrl: string | undefined): Promise<RateLimitStore> {
  return redisUrl ? redisStore(redisUrl) : Promise.resolve(memoryStore());
}
