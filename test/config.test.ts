import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, redactUrl, wasmBaselineOnly } from '../src/config.js';

function problem(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('loadConfig', () => {
  it('reads TRUST_PROXY as no proxy, a number of hops, or the proxies\' networks', () => {
    expect(loadConfig({}).trustProxy).toEqual({ kind: 'none' });
    expect(loadConfig({ TRUST_PROXY: 'true' }).trustProxy).toEqual({ kind: 'hops', hops: 1 });
    expect(loadConfig({ TRUST_PROXY: '2' }).trustProxy).toEqual({ kind: 'hops', hops: 2 });
    expect(loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }).trustProxy).toEqual({ kind: 'addresses', list: ['10.0.0.0/8', '::1'] });
  });

  it('defaults to the embedded database in ./.data on port 4000', () => {
    const config = loadConfig({});
    expect(config.port).toBe(4000);
    expect(config.database).toEqual({ kind: 'pglite', dataDir: expect.stringMatching(/\/\.data$/), sharedBuffers: '16MB' });
    expect(config.env).toBe('development');
    expect(config.logLevel).toBe('info');
  });

  it('uses PostgreSQL when DATABASE_URL is set, and DATA_DIR when given', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app:secret@db.internal:5432/sessions',
      DATABASE_POOL_SIZE: '20',
      DATA_DIR: '/var/lib/sessiongraph',
    });
    expect(config.database).toEqual({
      kind: 'postgres',
      url: 'postgres://app:secret@db.internal:5432/sessions',
      poolSize: 20,
      connectTimeoutMs: 5000,
    });
    expect(config.dataDir).toBe('/var/lib/sessiongraph');
    // A URL is not a directory: PGlite's memory:// would have made ./memory: on disk.
    expect(problem({ DATA_DIR: 'memory://' }).message).toMatch(/^DATA_DIR: expected a directory path, got "memory:\/\/"/);
    expect(problem({ DATA_DIR: ' file:///var/lib/sessiongraph' }).variable).toBe('DATA_DIR');
    // Unused beside DATABASE_URL, it is not checked: a start is not refused for it.
    expect(loadConfig({ DATABASE_URL: 'postgres://db/sessions', DATA_DIR: 'memory://' }).database.kind).toBe('postgres');
    expect(loadConfig({ DATA_DIR: './data:2026' }).dataDir).toMatch(/\/data:2026$/);
    const pooled = loadConfig({ DATABASE_URL: 'postgres://db/sessions', DATABASE_PREPARED_STATEMENTS: 'false' });
    expect(pooled.database).toMatchObject({ kind: 'postgres', preparedStatements: false });
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/sessions', DATABASE_PREPARED_STATEMENTS: 'maybe' })).toThrow(/DATABASE_PREPARED_STATEMENTS/);
  });

  it("sizes the embedded database's memory: shared_buffers and V8's WebAssembly compilers", () => {
    expect(loadConfig({ EMBEDDED_SHARED_BUFFERS: '128mb' }).database).toMatchObject({ sharedBuffers: '128MB' });
    expect(loadConfig({ EMBEDDED_SHARED_BUFFERS: '2GB' }).database).toMatchObject({ sharedBuffers: '2GB' });
    // The baseline compiler only, on the embedded database, unless the optimizing one is asked for.
    expect(wasmBaselineOnly({})).toBe(true);
    expect(wasmBaselineOnly({ EMBEDDED_WASM_OPTIMIZER: 'true' })).toBe(false);
    expect(wasmBaselineOnly({ DATABASE_URL: 'postgres://db/sessions' })).toBe(false);
    expect(wasmBaselineOnly({ EMBEDDED_WASM_OPTIMIZER: 'maybe' })).toBe(false); // loadConfig reports it
  });

  it.each([
    [{ EMBEDDED_SHARED_BUFFERS: '16' }, 'EMBEDDED_SHARED_BUFFERS', /expected a size from 1MB to 16GB such as 16MB, got "16"/],
    [{ EMBEDDED_SHARED_BUFFERS: '512kB' }, 'EMBEDDED_SHARED_BUFFERS', /got "512kB"/],
    [{ EMBEDDED_WASM_OPTIMIZER: 'maybe' }, 'EMBEDDED_WASM_OPTIMIZER', /expected true or false/],
    [{ DATABASE_URL: 'nonsense' }, 'DATABASE_URL', /is not a URL/],
    [{ DATABASE_URL: 'mysql://root@localhost/x' }, 'DATABASE_URL', /unsupported scheme "mysql:"/],
    [{ PORT: 'abc' }, 'PORT', /expected a whole number from 0 to 65535, got "abc"/],
    [{ PORT: '70000' }, 'PORT', /got 70000/],
    [{ PORT: '-1' }, 'PORT', /got "-1"/],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /expected one of debug, info, warn, error/],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV', /expected one of development, production, test/],
    [{ TRUST_PROXY: 'maybe' }, 'TRUST_PROXY', /"maybe" is none of these/],
    [{ TRUST_PROXY: '10.0.0.0/33' }, 'TRUST_PROXY', /"10.0.0.0\/33" is none of these/],
    [{ TRUST_PROXY: '50' }, 'TRUST_PROXY', /at most 20 proxy hops/],
    [{ MAX_LIST_LENGTH: '0' }, 'MAX_LIST_LENGTH', /from 1 to 100000/],
    [{ DATABASE_URL: 'postgres://x@h/db', DATABASE_POOL_SIZE: '0' }, 'DATABASE_POOL_SIZE', /from 1 to 1000/],
    // The one human-chosen secret: long, and not obviously guessable.
    [{ ADMIN_TOKEN: 'correct-horse-battery-st' }, 'ADMIN_TOKEN', /at least 32 characters .*got 24/],
    [{ ADMIN_TOKEN: 'x'.repeat(40) }, 'ADMIN_TOKEN', /too easy to guess: it has only 1 distinct characters/],
    [{ ADMIN_TOKEN: 'Tr0ub4dor&3'.repeat(3) }, 'ADMIN_TOKEN', /too easy to guess: it repeats one shorter string/],
    [{ ADMIN_TOKEN: 'abcdefghijklmnopqrstuvwxyz0123456789' }, 'ADMIN_TOKEN', /too easy to guess: .*runs such as/],
    [{ ADMIN_TOKEN: 'a long passphrase with spaces in it!' }, 'ADMIN_TOKEN', /must not contain spaces/],
    [{ RATE_LIMIT_IPV4_PREFIX: '33' }, 'RATE_LIMIT_IPV4_PREFIX', /from 1 to 32/],
    [{ RATE_LIMIT_IPV6_PREFIX: '0' }, 'RATE_LIMIT_IPV6_PREFIX', /from 1 to 128/],
    [{ KRATOS_PREFIX: 'kratos' }, 'KRATOS_PREFIX', /expected a path such as \/kratos/],
    [{ CLERK_PREFIX: '/graphql' }, 'CLERK_PREFIX', /taken by sessiongraph's own routes/],
    [{ GRID_PREFIX: '/kratos/grid' }, 'GRID_PREFIX', /overlaps KRATOS_PREFIX/],
    [{ VENDOR_ROUTES: 'sometimes' }, 'VENDOR_ROUTES', /expected true or false/],
    [{ SESSION_COOKIE: 'my cookie' }, 'SESSION_COOKIE', /expected a cookie name/],
    [{ WEBHOOK_RETRY_SCHEDULE: '1s,soon' }, 'WEBHOOK_RETRY_SCHEDULE', /expected a duration such as 500ms, 5s, 30m, 2h or 5d .*got "soon"/],
    [{ WEBHOOK_RETRY_SCHEDULE: '8d' }, 'WEBHOOK_RETRY_SCHEDULE', /at most 7 days/],
    [{ WEBHOOK_DISABLE_AFTER: '5 days' }, 'WEBHOOK_DISABLE_AFTER', /got "5 days"/],
    [{ WEBHOOK_ALLOW_PRIVATE: 'sometimes' }, 'WEBHOOK_ALLOW_PRIVATE', /expected true or false/],
    [{ WEBHOOK_TIMEOUT_SECONDS: '0' }, 'WEBHOOK_TIMEOUT_SECONDS', /from 1 to 120/],
  ])('refuses %j naming %s', (env, variable, message) => {
    const error = problem(env);
    expect(error.variable).toBe(variable);
    expect(error.message.startsWith(`${variable}: `)).toBe(true);
    expect(error.message).toMatch(message);
    expect(error.message).not.toContain('\n');
  });

  it('takes a random ADMIN_TOKEN of 32 characters or more', () => {
    for (const token of ['f3a9c2e7b1d45a8e9c0b7d2f6a1e3c5b', 'sga_Yx1q8vB0m3KpT7wZr5NcJd2LfH9sGe4uAo6iWk']) {
      expect(loadConfig({ ADMIN_TOKEN: token }).auth.adminToken).toBe(token);
    }
  });

  it('serves the vendor routes under their default prefixes, moved or turned off one by one', () => {
    expect(loadConfig({}).vendors).toEqual({ enabled: true, kratosPrefix: '/kratos', clerkPrefix: '/clerk', gridPrefix: '/grid' });
    expect(loadConfig({ KRATOS_PREFIX: '/ory/', CLERK_PREFIX: '', VENDOR_ROUTES: 'false' }).vendors).toEqual({
      enabled: false,
      kratosPrefix: '/ory',
      clerkPrefix: '',
      gridPrefix: '/grid',
    });
    expect(loadConfig({}).auth.sessionCookie).toBe('ory_kratos_session');
  });

  it('reads the webhook settings, with Svix\'s retry schedule by default', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowPrivate: false,
      retryScheduleMs: [5000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000],
      disableAfterMs: 5 * 86_400_000,
      timeoutMs: 15_000,
      workers: 16,
      endpointConcurrency: 4,
    });
    expect(loadConfig({ WEBHOOK_RETRY_SCHEDULE: '1s, 1s,2s', WEBHOOK_DISABLE_AFTER: '12h', WEBHOOK_ALLOW_PRIVATE: 'true' }).webhooks).toMatchObject({
      retryScheduleMs: [1000, 1000, 2000],
      disableAfterMs: 43_200_000,
      allowPrivate: true,
    });
  });

  it('never prints a database password', () => {
    expect(redactUrl('postgres://app:hunter2@db:5432/x')).toBe('postgres://app:***@db:5432/x');
    expect(problem({ DATABASE_URL: 'postgres://app:hunter2@/x' }).message).not.toContain('hunter2');
  });
});
