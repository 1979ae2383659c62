// Configuration comes from the environment only, and is checked in full before anything starts:
// a bad value stops the process with one line naming the variable, never a stack trace.
import { isIP } from 'node:net';
import { resolve } from 'node:path';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export type DatabaseConfig =
  | { kind: 'postgres'; url: string; poolSize: number; connectTimeoutMs: number; /** Named prepared statements and a generic-plan session setting (default true). */ preparedStatements?: boolean }
  | {
      kind: 'pglite';
      dataDir: string;
      /** PostgreSQL's shared_buffers inside PGlite, e.g. `16MB` (default: {@link defaultEmbeddedSharedBuffers}). */
      sharedBuffers?: string;
    };

/** A development default: PostgreSQL's own 128MB is resident memory a small data set never needs. */
export const defaultEmbeddedSharedBuffers = '16MB';

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  database: DatabaseConfig;
  /** Where the embedded database and other local state live (also used with PostgreSQL for files). */
  dataDir: string;
  logLevel: LogLevel;
  /** How long a shutdown waits for in-flight requests before closing their connections. */
  shutdownTimeoutMs: number;
  auth: AuthConfig;
  limits: LimitsConfig;
  /** Serve GraphiQL at /graphql (default: on outside production). */
  graphiql: boolean;
  /** Answer introspection queries (default: on outside production). */
  introspection: boolean;
  /** Batched requests (a JSON array of operations): the most per request; 0 means off. */
  batchLimit: number;
  /** Which proxies' X-Forwarded-For entries to believe for the client address. */
  trustProxy: TrustProxy;
  /** Where rate-limit counters live: this process (unset) or a Redis shared by all instances. */
  redisUrl?: string;
  /** Serve /metrics on this port of its own, without credentials (unset: on the main port, to API tokens). */
  metricsPort?: number;
  /** The address the metrics port listens on. */
  metricsHost: string;
  events: EventsConfig;
  /** Answer plannable queries with one SQL statement (off: every query through the resolvers). */
  plannedReads: boolean;
  /** Write a plannable mutation (a login) with one SQL statement (off: through the resolvers). */
  plannedWrites: boolean;
  vendors: VendorRoutesConfig;
  webhooks: WebhooksConfig;
  /** Traces to an OTLP/HTTP collector; undefined (the default) loads no OpenTelemetry at all. */
  tracing?: TracingConfig;
}

/** Webhook delivery: retries, limits and which receivers are allowed. */
export interface WebhooksConfig {
  /** Deliver to loopback, private, link-local and CGNAT addresses too (tests, private networks). */
  allowPrivate: boolean;
  /** The waits between attempts: a failed first attempt is retried after the first, and so on. */
  retryScheduleMs: number[];
  /** An endpoint failing for this long (no success in between) is disabled. */
  disableAfterMs: number;
  /** One attempt's whole time: connect, send, the response and its (capped) body. */
  timeoutMs: number;
  /** Attempts one instance makes at once, over all endpoints. */
  workers: number;
  /** Attempts one instance makes at once to one endpoint. */
  endpointConcurrency: number;
}

/** The vendors' own session APIs (Kratos, Clerk, Grid), served over the same store. */
export interface VendorRoutesConfig {
  enabled: boolean;
  /** Where each vendor's routes live, e.g. `/kratos`; empty: that vendor's routes are off. */
  kratosPrefix: string;
  clerkPrefix: string;
  gridPrefix: string;
}

export const defaultVendorRoutes: VendorRoutesConfig = { enabled: true, kratosPrefix: '/kratos', clerkPrefix: '/clerk', gridPrefix: '/grid' };

/** OpenTelemetry traces, from the standard OTEL_* variables; the exporter reads its own (endpoint, headers). */
export interface TracingConfig {
  serviceName: string;
  sampler: (typeof samplers)[number];
  /** OTEL_TRACES_SAMPLER_ARG: the ratio of the traceidratio samplers. */
  ratio: number;
}

const samplers = ['always_on', 'always_off', 'traceidratio', 'parentbased_always_on', 'parentbased_always_off', 'parentbased_traceidratio'] as const;

/** The audit trail and the live subscriptions on it. */
export interface EventsConfig {
  /** How long events are kept before they are purged. */
  retentionMs: number;
  /** At most one activity (and one token-issued) event per session in this interval. */
  activityIntervalMs: number;
  /** How often expired and abandoned sessions are looked for, to record their event. */
  lapseSweepMs: number;
  /** How often each instance reads new events even without a notification (a safety net). */
  pollMs: number;
  /** Live subscriptions one caller (a session or an API token) may hold on one instance. */
  maxSubscriptionsPerCaller: number;
  /** Keep-alive: an SSE comment or a WebSocket ping this often. */
  heartbeatMs: number;
  /** A WebSocket with no subscription for this long is closed. */
  idleMs: number;
  /** Events waiting for one slow subscriber before its stream ends (it resumes from the last id it saw). */
  maxQueuedEvents: number;
}

/**
 * The proxies in front of the server: none (the socket's address is the client's), a number of hops
 * (each appends the address it saw), or the proxies' own addresses and networks.
 */
export type TrustProxy = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; list: string[] };

/** Limits that protect the server from hostile or careless queries. Every one has a variable. */
export interface LimitsConfig {
  /** The most `first` / `last` may ask for. */
  maxPageSize: number;
  maxDepth: number;
  maxAliases: number;
  maxTokens: number;
  maxDirectives: number;
  maxCost: number;
  maxRequestBodyBytes: number;
  /** The most entries any list argument or variable may have (ids, filters, representations). */
  maxListLength: number;
  /** The deepest a JSON input value may nest. */
  maxInputDepth: number;
  rateLimitWindowMs: number;
  /** Failed authentications per client address per window. */
  authFailuresPerWindow: number;
  /** Failed authentications per network (an address's IPv4 or IPv6 prefix) per window. */
  networkAuthFailuresPerWindow: number;
  /** The prefix length that makes an IPv4 address's network, for the limit above. */
  ipv4NetworkPrefix: number;
  /** The prefix length that makes an IPv6 address's network. */
  ipv6NetworkPrefix: number;
  /** confirmRevocation calls per caller per window. */
  confirmationsPerWindow: number;
}

/** Session tokens (JWTs) and the keys that sign them. */
export interface TokenConfig {
  /** Seals the signing keys' private halves in the database; generated into DATA_DIR on the embedded database. */
  keySecret?: string;
  /** `iss` of every session token. */
  issuer: string;
  /** Lifetime of a session token made without a template. */
  lifetimeSeconds: number;
  /** Clock skew allowed when checking a token made without a template. */
  clockSkewSeconds: number;
  /** The longest a template may let a token live. */
  maxLifetimeSeconds: number;
  algorithm: 'RS256' | 'ES256';
  /** Check on every request that a token's session is still active (one indexed lookup). */
  strictRevocation: boolean;
}

export interface AuthConfig {
  /** Secret of the built-in `admin` API client; when unset, the embedded database generates one. */
  adminToken?: string;
  /** How long a signed-request challenge stays valid. */
  challengeTtlMs: number;
  /** Open (unconfirmed, unexpired) challenges one identity may have at once. */
  maxOpenChallenges: number;
  /** How long used and expired challenges are kept (for support questions) before they are purged. */
  challengeRetentionMs: number;
  /** Who the signed payloads are for: a signature made for another server is worthless here. */
  audience: string;
  tokens: TokenConfig;
  /** The cookie that carries a session token (Kratos' `ory_kratos_session`), on /graphql and the Kratos routes. */
  sessionCookie: string;
  /** Origins whose pages may call with the session cookie (credentialed CORS); none by default. */
  credentialedOrigins: string[];
}

/** A configuration problem: `variable` names the environment variable at fault. */
export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    problem: string,
  ) {
    super(`${variable}: ${problem}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d+$/.test(raw)) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${JSON.stringify(raw)}`);
  }
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `expected a whole number from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got ${JSON.stringify(raw)}`);
  }
  return raw as T;
}

/** The URL with its password replaced, safe to print. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable URL>';
  }
}

function databaseUrl(raw: string): string {
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    throw new ConfigError(
      'DATABASE_URL',
      'is not a URL; expected postgres://user:password@host:5432/database (or unset it to use the embedded database)',
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new ConfigError(
      'DATABASE_URL',
      `unsupported scheme "${parsed.protocol}"; expected postgres:// or postgresql://`,
    );
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) {
    throw new ConfigError('DATABASE_URL', `has no host: ${redactUrl(raw)}`);
  }
  return raw;
}

/** A PostgreSQL memory setting in kB, MB or GB, from `min` to `max` MB. */
function memorySize(env: Env, name: string, fallback: string, minMB: number, maxMB: number): string {
  const raw = env[name]?.trim();
  if (raw === undefined || raw === '') return fallback;
  const match = /^(\d+)\s*(kB|MB|GB)$/i.exec(raw);
  const mb = match ? (Number(match[1]) * { kb: 1 / 1024, mb: 1, gb: 1024 }[match[2]!.toLowerCase() as 'kb' | 'mb' | 'gb']) : NaN;
  if (!(mb >= minMB && mb <= maxMB)) {
    throw new ConfigError(name, `expected a size from ${minMB}MB to ${maxMB / 1024}GB such as 16MB, got ${JSON.stringify(raw)}`);
  }
  return `${match![1]}${{ kb: 'kB', mb: 'MB', gb: 'GB' }[match![2]!.toLowerCase() as 'kb' | 'mb' | 'gb']}`;
}

function flag(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['true', '1', 'yes', 'on'].includes(raw)) return true;
  if (['false', '0', 'no', 'off'].includes(raw)) return false;
  throw new ConfigError(name, `expected true or false, got ${JSON.stringify(env[name])}`);
}

function trustProxy(raw: string | undefined): TrustProxy {
  const value = raw?.trim().toLowerCase();
  if (!value || ['false', '0', 'no', 'off'].includes(value)) return { kind: 'none' };
  if (['true', 'yes', 'on'].includes(value)) return { kind: 'hops', hops: 1 };
  if (/^\d+$/.test(value)) {
    const hops = Number(value);
    if (hops > 20) throw new ConfigError('TRUST_PROXY', `expected at most 20 proxy hops, got ${hops}`);
    return { kind: 'hops', hops };
  }
  const list = value.split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of list) {
    const [address, bits, extra] = entry.split('/');
    const family = isIP(address ?? '');
    const maxBits = family === 6 ? 128 : 32;
    if (!family || extra !== undefined || (bits !== undefined && (!/^\d+$/.test(bits) || Number(bits) > maxBits))) {
      throw new ConfigError(
        'TRUST_PROXY',
        `expected true, false, a number of proxy hops, or proxy addresses / CIDR networks separated by commas; ${JSON.stringify(entry)} is none of these`,
      );
    }
  }
  return { kind: 'addresses', list };
}

function redisUrl(raw: string | undefined): string | undefined {
  const value = raw?.trim();
  if (!value) return undefined;
  let parsed: URL;
  try {
    parsed = new URL(value);
  } catch {
    throw new ConfigError('REDIS_URL', 'is not a URL; expected redis://host:6379 (or unset it to count in memory)');
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new ConfigError('REDIS_URL', `unsupported scheme "${parsed.protocol}"; expected redis:// or rediss://`);
  }
  return value;
}

function tokenKeySecret(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (raw.length < 32) throw new ConfigError('TOKEN_KEY_SECRET', 'must be at least 32 characters (a long random string)');
  return raw;
}

/** Why a human-chosen secret is obviously guessable, or undefined: few distinct characters, a repeated pattern, or runs such as aaaa / 1234. */
export function guessableSecret(secret: string): string | undefined {
  const distinct = new Set(secret).size;
  if (distinct < 10) return `it has only ${distinct} distinct characters`;
  if (/^(.+?)\1+$/s.test(secret)) return 'it repeats one shorter string';
  let steps = 0;
  for (let i = 1; i < secret.length; i++) if (Math.abs(secret.charCodeAt(i) - secret.charCodeAt(i - 1)) <= 1) steps++;
  if (steps * 2 >= secret.length - 1) return 'half of it or more is runs such as "aaaa" or "1234"';
  return undefined;
}

const minAdminTokenLength = 32;
const reservedPaths = ['/graphql', '/healthz', '/readyz', '/metrics', '/.well-known'];

function routePrefix(env: Env, name: string, fallback: string): string {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = raw.trim().replace(/\/+$/, '');
  if (value === '') return '';
  if (!/^(\/[A-Za-z0-9._~-]+)+$/.test(value)) {
    throw new ConfigError(name, `expected a path such as ${fallback} (letters, digits, "-", "_", "." and "~" between slashes), or empty to turn these routes off; got ${JSON.stringify(raw)}`);
  }
  if (reservedPaths.some((path) => value === path || value.startsWith(`${path}/`))) {
    throw new ConfigError(name, `${value} is taken by sessiongraph's own routes (${reservedPaths.join(', ')})`);
  }
  return value;
}

function vendorRoutes(env: Env): VendorRoutesConfig {
  const config = {
    enabled: flag(env, 'VENDOR_ROUTES', true),
    kratosPrefix: routePrefix(env, 'KRATOS_PREFIX', defaultVendorRoutes.kratosPrefix),
    clerkPrefix: routePrefix(env, 'CLERK_PREFIX', defaultVendorRoutes.clerkPrefix),
    gridPrefix: routePrefix(env, 'GRID_PREFIX', defaultVendorRoutes.gridPrefix),
  };
  const prefixes = [['KRATOS_PREFIX', config.kratosPrefix], ['CLERK_PREFIX', config.clerkPrefix], ['GRID_PREFIX', config.gridPrefix]].filter(([, p]) => p);
  for (const [name, prefix] of prefixes) {
    const clash = prefixes.find(([other, p]) => other !== name && (prefix === p || prefix!.startsWith(`${p}/`)));
    if (clash) throw new ConfigError(name!, `${prefix} overlaps ${clash[0]} (${clash[1]}); give each vendor a path of its own`);
  }
  return config;
}

function cookieName(raw: string | undefined): string {
  const value = raw?.trim();
  if (!value) return 'ory_kratos_session';
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(value)) throw new ConfigError('SESSION_COOKIE', `expected a cookie name (letters, digits and !#$%&'*+-.^_\`|~), got ${JSON.stringify(raw)}`);
  return value;
}

function origins(raw: string | undefined): string[] {
  const list = (raw ?? '').split(',').map((entry) => entry.trim()).filter(Boolean);
  for (const entry of list) {
    let parsed: URL | undefined;
    try {
      parsed = new URL(entry);
    } catch {
      // refused below
    }
    if (!parsed || !['http:', 'https:'].includes(parsed.protocol) || parsed.origin !== entry) {
      throw new ConfigError('CORS_CREDENTIALED_ORIGINS', `expected origins such as https://app.example.com separated by commas; ${JSON.stringify(entry)} is not one`);
    }
  }
  return list;
}

const durationUnits: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `100ms`, `5s`, `30m`, `2h`, `5d`: milliseconds. */
function duration(name: string, raw: string, max: number): number {
  const match = /^(\d{1,9})(ms|s|m|h|d)$/.exec(raw.trim());
  const value = match ? Number(match[1]) * durationUnits[match[2]!]! : NaN;
  if (!(value <= max)) throw new ConfigError(name, `expected a duration such as 500ms, 5s, 30m, 2h or 5d (at most ${max / 86_400_000} days), got ${JSON.stringify(raw)}`);
  return value;
}

// Svix's schedule: immediately, then 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after each failure.
const svixRetrySchedule = '5s,5m,30m,2h,5h,10h,10h';

function retrySchedule(raw: string | undefined): number[] {
  const value = raw?.trim() || svixRetrySchedule;
  const waits = value.split(',').map((entry) => duration('WEBHOOK_RETRY_SCHEDULE', entry, 7 * 86_400_000));
  if (waits.length > 50) throw new ConfigError('WEBHOOK_RETRY_SCHEDULE', `expected at most 50 retries, got ${waits.length}`);
  return waits;
}

function adminToken(raw: string | undefined): string | undefined {
  if (raw === undefined || raw === '') return undefined;
  const random = 'a long random string, e.g. from `openssl rand -base64 32`';
  if (raw.length < minAdminTokenLength) throw new ConfigError('ADMIN_TOKEN', `must be at least ${minAdminTokenLength} characters (${random}); got ${raw.length}`);
  if (/[\s:]/.test(raw)) throw new ConfigError('ADMIN_TOKEN', 'must not contain spaces or ":" (it travels in a Basic header)');
  const guessable = guessableSecret(raw);
  if (guessable) throw new ConfigError('ADMIN_TOKEN', `is too easy to guess: ${guessable}; use ${random}`);
  return raw;
}

/**
 * Whether V8 compiles WebAssembly with its baseline compiler only (`--liftoff-only`): the default on
 * the embedded database. Its optimizing compiler takes some 450 MB for a moment when it compiles
 * PostgreSQL's hottest functions — most of the embedded server's peak — for about a quarter less
 * CPU per statement afterwards. A V8 flag must be on the command line, so main.ts asks this before
 * anything else (a bad value is reported by loadConfig, like any other).
 */
export function wasmBaselineOnly(env: Env = process.env): boolean {
  if (env.DATABASE_URL?.trim()) return false;
  try {
    return !flag(env, 'EMBEDDED_WASM_OPTIMIZER', false);
  } catch {
    return false;
  }
}

function otlpEndpoint(env: Env, name: string): string | undefined {
  const raw = env[name]?.trim();
  if (!raw) return undefined;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `is not a URL; expected e.g. http://collector:4318`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigError(name, `unsupported scheme "${url.protocol}"; expected http:// or https:// (OTLP over HTTP)`);
  return raw;
}

/** On when an OTLP endpoint is named and the SDK is not disabled. */
function tracing(env: Env): TracingConfig | undefined {
  const endpoint = otlpEndpoint(env, 'OTEL_EXPORTER_OTLP_TRACES_ENDPOINT') ?? otlpEndpoint(env, 'OTEL_EXPORTER_OTLP_ENDPOINT');
  if (!endpoint || flag(env, 'OTEL_SDK_DISABLED', false)) return undefined;
  const rawRatio = env.OTEL_TRACES_SAMPLER_ARG?.trim();
  const ratio = rawRatio ? Number(rawRatio) : 1;
  if (!(ratio >= 0 && ratio <= 1) || (rawRatio !== undefined && rawRatio !== '' && !/^\d*\.?\d+$/.test(rawRatio))) {
    throw new ConfigError('OTEL_TRACES_SAMPLER_ARG', `expected a ratio from 0 to 1, got ${JSON.stringify(rawRatio)}`);
  }
  return {
    serviceName: env.OTEL_SERVICE_NAME?.trim() || 'sessiongraph',
    sampler: oneOf(env, 'OTEL_TRACES_SAMPLER', samplers, 'parentbased_always_on'),
    ratio,
  };
}

/**
 * DATA_DIR as an absolute path. A URL (PGlite's `memory://`) would be taken as a relative directory
 * named after its scheme: refused when the embedded database will use it, not when DATABASE_URL is set.
 */
function dataDirectory(raw: string | undefined, used: boolean): string {
  const value = raw?.trim() || '.data';
  if (used && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) {
    throw new ConfigError('DATA_DIR', `expected a directory path, got ${JSON.stringify(value)}: the embedded database, its admin token and key secret are kept in a directory (for a throwaway one, name a temporary directory)`);
  }
  return resolve(value);
}

export function loadConfig(env: Env = process.env): Config {
  const nodeEnv = oneOf(env, 'NODE_ENV', ['development', 'production', 'test'], 'development');
  const port = integer(env, 'PORT', 4000, 0, 65535);
  const host = env.HOST?.trim() || '0.0.0.0';
  const rawUrl = env.DATABASE_URL?.trim();
  const dataDir = dataDirectory(env.DATA_DIR, !rawUrl);
  const database: DatabaseConfig = rawUrl
    ? {
        kind: 'postgres',
        url: databaseUrl(rawUrl),
        poolSize: integer(env, 'DATABASE_POOL_SIZE', 10, 1, 1000),
        connectTimeoutMs: integer(env, 'DATABASE_CONNECT_TIMEOUT_MS', 5000, 100, 600_000),
        // Said only when off: the default (on) is what a config without it means.
        ...(flag(env, 'DATABASE_PREPARED_STATEMENTS', true) ? {} : { preparedStatements: false }),
      }
    : { kind: 'pglite', dataDir, sharedBuffers: memorySize(env, 'EMBEDDED_SHARED_BUFFERS', defaultEmbeddedSharedBuffers, 1, 16_384) };
  // Acted on by main.ts before the process starts for good (wasmBaselineOnly); checked here like the rest.
  if (!rawUrl) flag(env, 'EMBEDDED_WASM_OPTIMIZER', false);
  const config: Config = {
    env: nodeEnv,
    host,
    port,
    database,
    dataDir,
    logLevel: oneOf(env, 'LOG_LEVEL', ['debug', 'info', 'warn', 'error'], 'info'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    auth: {
      adminToken: adminToken(env.ADMIN_TOKEN),
      challengeTtlMs: integer(env, 'CHALLENGE_TTL_SECONDS', 300, 10, 86_400) * 1000,
      maxOpenChallenges: integer(env, 'MAX_OPEN_CHALLENGES', 20, 1, 10_000),
      challengeRetentionMs: integer(env, 'CHALLENGE_RETENTION_HOURS', 24, 0, 8760) * 3_600_000,
      audience: env.AUDIENCE?.trim() || 'sessiongraph',
      tokens: {
        keySecret: tokenKeySecret(env.TOKEN_KEY_SECRET),
        issuer: env.TOKEN_ISSUER?.trim() || 'sessiongraph',
        lifetimeSeconds: integer(env, 'SESSION_TOKEN_LIFETIME_SECONDS', 60, 1, 86_400),
        clockSkewSeconds: integer(env, 'SESSION_TOKEN_CLOCK_SKEW_SECONDS', 5, 0, 300),
        maxLifetimeSeconds: integer(env, 'MAX_SESSION_TOKEN_LIFETIME_SECONDS', 86_400, 1, 2_592_000),
        algorithm: oneOf(env, 'SESSION_TOKEN_ALGORITHM', ['RS256', 'ES256'], 'RS256'),
        strictRevocation: flag(env, 'STRICT_TOKEN_REVOCATION', false),
      },
      sessionCookie: cookieName(env.SESSION_COOKIE),
      credentialedOrigins: origins(env.CORS_CREDENTIALED_ORIGINS),
    },
    limits: {
      maxPageSize: integer(env, 'MAX_PAGE_SIZE', 100, 1, 10_000),
      maxDepth: integer(env, 'MAX_DEPTH', 12, 1, 1000),
      maxAliases: integer(env, 'MAX_ALIASES', 15, 0, 10_000),
      maxTokens: integer(env, 'MAX_TOKENS', 2000, 10, 1_000_000),
      maxDirectives: integer(env, 'MAX_DIRECTIVES', 10, 0, 10_000),
      maxCost: integer(env, 'MAX_COST', 50_000, 1, 1_000_000_000),
      maxRequestBodyBytes: integer(env, 'MAX_REQUEST_BODY_BYTES', 1_048_576, 1024, 1_073_741_824),
      maxListLength: integer(env, 'MAX_LIST_LENGTH', 500, 1, 100_000),
      maxInputDepth: integer(env, 'MAX_INPUT_DEPTH', 32, 2, 1000),
      rateLimitWindowMs: integer(env, 'RATE_LIMIT_WINDOW_SECONDS', 60, 1, 86_400) * 1000,
      authFailuresPerWindow: integer(env, 'RATE_LIMIT_AUTH_FAILURES', 10, 1, 100_000_000),
      networkAuthFailuresPerWindow: integer(env, 'RATE_LIMIT_NETWORK_AUTH_FAILURES', 100, 1, 100_000_000),
      ipv4NetworkPrefix: integer(env, 'RATE_LIMIT_IPV4_PREFIX', 24, 1, 32),
      ipv6NetworkPrefix: integer(env, 'RATE_LIMIT_IPV6_PREFIX', 64, 1, 128),
      confirmationsPerWindow: integer(env, 'RATE_LIMIT_CONFIRMATIONS', 30, 1, 100_000_000),
    },
    graphiql: flag(env, 'GRAPHIQL', nodeEnv !== 'production'),
    introspection: flag(env, 'INTROSPECTION', nodeEnv !== 'production'),
    batchLimit: integer(env, 'BATCH_LIMIT', 0, 0, 100),
    trustProxy: trustProxy(env.TRUST_PROXY),
    redisUrl: redisUrl(env.REDIS_URL),
    metricsPort: env.METRICS_PORT?.trim() ? integer(env, 'METRICS_PORT', 0, 0, 65535) : undefined,
    metricsHost: env.METRICS_HOST?.trim() || '127.0.0.1',
    plannedReads: flag(env, 'PLANNED_READS', true),
    plannedWrites: flag(env, 'PLANNED_WRITES', true),
    vendors: vendorRoutes(env),
    tracing: tracing(env),
    events: {
      retentionMs: integer(env, 'EVENT_RETENTION_DAYS', 90, 1, 36_500) * 86_400_000,
      activityIntervalMs: integer(env, 'EVENT_ACTIVITY_INTERVAL_SECONDS', 300, 0, 86_400) * 1000,
      lapseSweepMs: integer(env, 'EVENT_LAPSE_SWEEP_SECONDS', 5, 1, 3600) * 1000,
      pollMs: integer(env, 'EVENT_POLL_MS', 1000, 50, 60_000),
      maxSubscriptionsPerCaller: integer(env, 'MAX_SUBSCRIPTIONS_PER_CALLER', 10, 1, 10_000),
      heartbeatMs: integer(env, 'SUBSCRIPTION_HEARTBEAT_SECONDS', 15, 1, 3600) * 1000,
      idleMs: integer(env, 'SUBSCRIPTION_IDLE_SECONDS', 300, 1, 86_400) * 1000,
      maxQueuedEvents: integer(env, 'SUBSCRIPTION_MAX_QUEUED_EVENTS', 1000, 1, 1_000_000),
    },
    webhooks: {
      allowPrivate: flag(env, 'WEBHOOK_ALLOW_PRIVATE', false),
      retryScheduleMs: retrySchedule(env.WEBHOOK_RETRY_SCHEDULE),
      disableAfterMs: duration('WEBHOOK_DISABLE_AFTER', env.WEBHOOK_DISABLE_AFTER?.trim() || '5d', 365 * 86_400_000),
      timeoutMs: integer(env, 'WEBHOOK_TIMEOUT_SECONDS', 15, 1, 120) * 1000,
      workers: integer(env, 'WEBHOOK_WORKERS', 16, 1, 1000),
      endpointConcurrency: integer(env, 'WEBHOOK_ENDPOINT_CONCURRENCY', 4, 1, 100),
    },
  };
  // Each instance rebuilds its JWT revocation set at start from the events of that long.
  const tokenDays = Math.ceil((config.auth.tokens.maxLifetimeSeconds + 600) / 86_400);
  if (config.events.retentionMs < tokenDays * 86_400_000) {
    throw new ConfigError(
      'EVENT_RETENTION_DAYS',
      `must keep events at least ${tokenDays} days, as long as a session token may still pass (MAX_SESSION_TOKEN_LIFETIME_SECONDS plus 10 minutes): revocations are read back from them at start`,
    );
  }
  return config;
}
