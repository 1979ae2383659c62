// The vendor routes beside the GraphQL reads they mirror, measured in the same run, interleaved:
// Kratos' whoami (X-Session-Token) against the viewer query that reads the same session, identity
// and devices; Clerk's getSessionList (secretKey, user_id) against the sessions page GraphQL answers
// for that identity. CPU ms per request of the server is the figure to compare (req/s moves with
// whatever else the machine runs).
import { adminToken } from './scenarios.js';

interface Measured {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
  cpuMsPerRequest?: number;
}

/** One request of a scenario: where, how, and with what. */
export interface VendorRequest {
  method?: 'GET' | 'POST';
  path?: string;
  body?: unknown;
  headers?: Record<string, string>;
}

type Measure = (spec: { port: number; pid?: number; path: string; body: (i: number) => VendorRequest }) => Promise<Measured>;

const whoamiQuery = `{ viewer { session { id active expiresAt authenticatedAt issuedAt aal authenticationMethods { method aal completedAt }
  devices { id ipAddress userAgent location } identity { id schemaId state traits metadataPublic createdAt updatedAt } } } }`;
const sessionListQuery = `query ($user: ID!) { sessions(first: 10, filter: { identityId: $user }) { totalCount edges { node {
  id clientId status lastActiveAt expiresAt abandonAt createdAt updatedAt lastActiveOrganizationId actor identity { id } devices { ipAddress userAgent } } } } }`;

const mean = (values: number[]) => Math.round((values.reduce((a, b) => a + b, 0) / values.length) * 1000) / 1000;

/** Alternates the two specs `rounds` times; the mean of each. */
async function interleaved(measure: Measure, a: Parameters<Measure>[0], b: Parameters<Measure>[0], rounds: number) {
  const results: { a: Measured[]; b: Measured[] } = { a: [], b: [] };
  for (let round = 0; round < rounds; round++) {
    results.a.push(await measure(a));
    results.b.push(await measure(b));
  }
  const summary = (runs: Measured[]) => ({
    requestsPerSecond: Math.round(mean(runs.map((r) => r.requestsPerSecond))),
    cpuMsPerRequest: mean(runs.map((r) => r.cpuMsPerRequest ?? 0)),
    p50Ms: mean(runs.map((r) => r.p50Ms)),
    p99Ms: mean(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
    runs: runs.map((r) => r.cpuMsPerRequest),
  });
  return { route: summary(results.a), graphql: summary(results.b) };
}

export async function vendorScenarios(measure: Measure, server: { port: number; pid?: number }, tokens: string[], identityOfToken: Map<string, string>, rounds = 2) {
  const token = (i: number) => tokens[i % tokens.length]!;
  const user = (i: number) => `Identity:${identityOfToken.get(token(i))}`;
  const secretKey = `admin.${adminToken}`;
  const base = { port: server.port, pid: server.pid };
  const kratosWhoami = await interleaved(
    measure,
    { ...base, path: '/kratos/sessions/whoami', body: (i) => ({ method: 'GET', headers: { 'x-session-token': token(i) } }) },
    { ...base, path: '/graphql', body: (i) => ({ body: { query: whoamiQuery }, headers: { authorization: `Bearer ${token(i)}` } }) },
    rounds,
  );
  const clerkSessionList = await interleaved(
    measure,
    { ...base, path: '/clerk/v1/sessions', body: (i) => ({ method: 'GET', path: `/clerk/v1/sessions?user_id=${encodeURIComponent(user(i))}&paginated=true`, headers: { authorization: `Bearer ${secretKey}` } }) },
    { ...base, path: '/graphql', body: (i) => ({ body: { query: sessionListQuery, variables: { user: user(i) } }, headers: { authorization: `Bearer ${secretKey}` } }) },
    rounds,
  );
  return { kratosWhoami, clerkSessionList };
}
