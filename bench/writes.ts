// The writes: a login (createSession with a device, an authentication method and its event) against
// PostGraphile 5 creating the same three rows in one request, and against our own resolvers
// (PLANNED_WRITES=false); token mints with and without their throttled event; signed revocations
// (revokeSession + confirmRevocation); recordSessionActivity; two instances' login throughput
// against one's; and how often a writer waited on an advisory lock (pg_locks, sampled) during the
// logins. Each measurement is a fixed number of requests, interleaved with its peers and repeated.
//
// Part of `npm run bench`; alone: `npm run bench:writes [-- --quick] [--only login,scaleOut,mints,revocation] [--signers-elsewhere]`
// (seeds a smaller population; --only runs those parts alone, e.g. `--only revocation` to compare a
// confirmation with PostGraphile's login in the same rounds).
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { p256 } from '@noble/curves/nist.js';
import pg from 'pg';
import { uuidv7 } from 'uuidv7';
import { openDatabase } from '../src/db/database.js';
import { applyMigrations } from '../src/db/migrations.js';
import { freshDatabase, identitiesOfTokens, load, log, plan, poolSize, quick, startChild, startServer, type LoadSpec, type Measured } from './run.js';
import { admin } from './scenarios.js';
import { seed, type Population } from './seed.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
// The issue's setting: 2,000 requests at 16 connections, two interleaved rounds.
const requests = quick ? 400 : 2000;
const connections = 16;
const rounds = 2;
/** The parts to run (--only a,b): all unless named. */
const onlyIndex = process.argv.indexOf('--only');
const only = onlyIndex > 0 ? new Set(process.argv[onlyIndex + 1]!.split(',')) : undefined;
const runs = (part: 'login' | 'scaleOut' | 'mints' | 'revocation') => !only || only.has(part);
/** --signers-elsewhere: the revocations' sessions log in on the second instance, so the confirming one imports each signer's key itself. */
const signersElsewhere = process.argv.includes('--signers-elsewhere');

export const loginMutation = `mutation ($input: CreateSessionInput!) { createSession(input: $input) { session { id status devices { id } } sessionToken } }`;
// The same three rows from PostGraphile (Amber): one request, three mutations, run in order.
export const peerLogin = `mutation ($s: SessionInput!, $d: DeviceInput!, $e: SessionEventInput!) {
  createSession(input: { session: $s }) { session { rowId status } }
  createDevice(input: { device: $d }) { device { rowId } }
  createSessionEvent(input: { sessionEvent: $e }) { sessionEvent { rowId } } }`;
const mintMutation = `mutation ($id: ID!) { createSessionToken(input: { sessionId: $id }) { token { jwt expiresAt } } }`;
const touchMutation = `mutation ($input: RecordSessionActivityInput!) { recordSessionActivity(input: $input) { session { id lastActiveAt } device { id } } }`;
const revokeMutation = `mutation ($id: ID!) { revokeSession(input: { sessionId: $id }) { challenge { requestId payloadToSign } } }`;
const confirmMutation = `mutation ($r: String!, $s: String!) { confirmRevocation(input: { requestId: $r, signature: $s }) { session { id status } } }`;

const userAgent = 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/17.5';

/** Our login's variables for an identity: one device, one authentication method, optionally a key. */
function loginInput(identityId: string, publicKeyHex?: string) {
  return {
    input: {
      identityId: `Identity:${identityId}`,
      type: 'PASSKEY',
      devices: [{ userAgent, ipAddress: '192.0.2.10' }],
      authenticationMethods: [{ method: 'PASSKEY', aal: 'AAL1' }],
      ...(publicKeyHex ? { clientPublicKey: publicKeyHex } : {}),
    },
  };
}

/** PostGraphile's variables for the same rows (it fills no id, no updated_at: the client does). */
function peerLoginVariables(identityId: string) {
  const now = new Date().toISOString();
  const sessionId = uuidv7();
  return {
    s: {
      rowId: sessionId, identityId, type: 'PASSKEY', authenticationMethods: [{ method: 'PASSKEY', aal: 'AAL1', completedAt: now, provider: null, organization: null }],
      authenticatedAt: now, issuedAt: now, lastActiveAt: now, updatedAt: now,
    },
    d: { rowId: uuidv7(), sessionId, userAgent, ipAddress: '192.0.2.10' },
    e: { rowId: uuidv7(), type: 'SESSION_CREATED', identityId, sessionId, actorApiClientId: 'admin', details: { type: 'PASSKEY', clientId: null }, occurredAt: now },
  };
}

const jsonPost = async (port: number, body: unknown, authorization?: string) =>
  (await (await fetch(`http://127.0.0.1:${port}/graphql`, { method: 'POST', headers: { 'content-type': 'application/json', ...(authorization ? { authorization } : {}) }, body: JSON.stringify(body) })).json()) as any;

/** Before measuring: one login from each writes the same rows — a session, its device, its event. */
async function sameLoginRows(databaseUrl: string, ours: number, peer: number, identityId: string): Promise<void> {
  const a = await jsonPost(ours, { query: loginMutation, variables: loginInput(identityId) }, admin);
  const b = await jsonPost(peer, { query: peerLogin, variables: peerLoginVariables(identityId) });
  if (a.errors || b.errors) throw new Error(`a login failed: ${JSON.stringify(a.errors ?? b.errors).slice(0, 600)}`);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const rows = async (sessionId: string) => {
      const { rows: [row] } = await client.query(
        `SELECT s.status, s.type, s.authentication_methods -> 0 ->> 'method' AS method, s.updated_at IS NOT NULL AS updated,
           (SELECT count(*)::int FROM devices d WHERE d.session_id = s.id AND d.user_agent = $2) AS devices,
           (SELECT array_agg(e.type::text) FROM session_events e WHERE e.session_id = s.id) AS events
         FROM sessions s WHERE s.id = $1`,
        [sessionId, userAgent],
      );
      return JSON.stringify(row);
    };
    const ourRows = await rows(a.data.createSession.session.id.slice('Session:'.length));
    const peerRows = await rows(b.data.createSession.session.rowId);
    if (ourRows !== peerRows) throw new Error(`the login rows differ: ours ${ourRows}, PostGraphile's ${peerRows}`);
  } finally {
    await client.end();
  }
}

/** Samples pg_locks every few milliseconds while `work` runs: how often a backend waited for an advisory lock. */
async function advisoryWaits<T>(databaseUrl: string, work: () => Promise<T>): Promise<{ result: T; samples: number; samplesWithWaiters: number }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  let samples = 0;
  let samplesWithWaiters = 0;
  let running = true;
  const sampling = (async () => {
    while (running) {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted`);
      samples++;
      if (rows[0].n > 0) samplesWithWaiters++;
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  try {
    const result = await work();
    return { result, samples, samplesWithWaiters };
  } finally {
    running = false;
    await sampling;
    await client.end();
  }
}

/** A fixed number of requests at the bench's connections, after a short warm-up of the same kind. */
const fixed = (spec: Omit<LoadSpec, 'amount' | 'durationS'>, amount = requests): Promise<Measured> => load({ connections, ...spec, amount, durationS: undefined });

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length / 2;
  return sorted.length % 2 ? sorted[Math.floor(middle)]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The rounds of one measurement, and their medians. */
function summary(runs: Measured[]) {
  return {
    runs,
    cpuMsPerRequest: median(runs.map((r) => r.cpuMsPerRequest ?? 0)),
    postgresCpuMsPerRequest: median(runs.map((r) => r.postgresCpuMsPerRequest ?? 0)),
    requestsPerSecond: median(runs.map((r) => r.requestsPerSecond)),
    p99Ms: median(runs.map((r) => r.p99Ms)),
    errors: runs.reduce((sum, r) => sum + r.errors, 0),
  };
}
type Summary = ReturnType<typeof summary>;

/** Each round's server CPU over the peer's in the same round. */
const overPeer = (runs: Measured[], peer: Measured[]) => runs.map((run, i) => (run.cpuMsPerRequest ?? 0) / (peer[i]!.cpuMsPerRequest || 1));

const nodeArgs = ['--import', 'tsx'];
const portLine = (line: string) => {
  try {
    return JSON.parse(line).port as number;
  } catch {
    return undefined;
  }
};

export async function writeScenarios(databaseUrl: string, population: Population): Promise<{ results: Record<string, unknown>; table: string }> {
  log('writes: starting sessiongraph (planned writes and resolvers), a second instance and PostGraphile');
  const ours = await startServer({ DATABASE_URL: databaseUrl });
  const resolvers = await startServer({ DATABASE_URL: databaseUrl, PLANNED_WRITES: 'false' });
  const second = await startServer({ DATABASE_URL: databaseUrl });
  const peer = await startChild([...nodeArgs, 'bench/postgraphile-server.ts'], { DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: String(poolSize), GRAPHILE_ENV: 'production' }, portLine);
  const identity = (i: number) => population.identityIds[i % population.identityIds.length]!;
  const results: Record<string, unknown> = { requests, connections, rounds, signersElsewhere };
  try {
    await sameLoginRows(databaseUrl, ours.port, peer.port, identity(0));
    const oursLogin: LoadSpec = { port: ours.port, pid: ours.process.pid, path: '/graphql', headers: { authorization: admin }, body: (i) => ({ body: { query: loginMutation, variables: loginInput(identity(i)) } }) };
    const resolverLogin: LoadSpec = { ...oursLogin, port: resolvers.port, pid: resolvers.process.pid };
    const peerLoginSpec: LoadSpec = { port: peer.port, pid: peer.process.pid, path: '/graphql', body: (i) => ({ body: { query: peerLogin, variables: peerLoginVariables(identity(i)) } }) };

    if (runs('login')) {
      log('writes 1. login: ours, PostGraphile, our resolvers — interleaved, two rounds (pg_locks sampled during ours)');
      for (const spec of [oursLogin, peerLoginSpec, resolverLogin]) await fixed(spec, Math.round(requests / 4));
      const login = { ours: [] as Measured[], peer: [] as Measured[], resolvers: [] as Measured[] };
      const locks = { samples: 0, samplesWithWaiters: 0 };
      for (let round = 0; round < rounds; round++) {
        const sampled = await advisoryWaits(databaseUrl, () => fixed(oursLogin));
        login.ours.push(sampled.result);
        locks.samples += sampled.samples;
        locks.samplesWithWaiters += sampled.samplesWithWaiters;
        login.peer.push(await fixed(peerLoginSpec));
        login.resolvers.push(await fixed(resolverLogin));
      }
      // p99 at 64 connections: interleaved rounds too, after a first one that warms both servers to that load.
      const at64 = { ours: [] as number[], peer: [] as number[] };
      for (let round = 0; round <= rounds; round++) {
        const ours64 = await fixed({ ...oursLogin, connections: 64 });
        const peer64 = await fixed({ ...peerLoginSpec, connections: 64 });
        if (round === 0) continue;
        at64.ours.push(ours64.p99Ms);
        at64.peer.push(peer64.p99Ms);
      }
      const p99At64 = { ours: median(at64.ours), peer: median(at64.peer), runs: at64 };
      results.login = { ours: summary(login.ours), peer: summary(login.peer), resolvers: summary(login.resolvers), p99At64ConnectionsMs: p99At64, advisoryLockWaits: locks };
    }

    if (runs('scaleOut')) {
      log('writes 2. two instances against one: login throughput at 16 connections in all');
      const throughput = { one: [] as number[], two: [] as number[] };
      const oneInstance: Measured[] = [];
      for (let round = 0; round < rounds; round++) {
        oneInstance.push(await fixed(oursLogin));
        throughput.one.push(oneInstance.at(-1)!.requestsPerSecond);
        const started = performance.now();
        const both = await Promise.all([
          fixed({ ...oursLogin, connections: connections / 2 }, requests / 2),
          fixed({ ...oursLogin, port: second.port, pid: second.process.pid, connections: connections / 2 }, requests / 2),
        ]);
        throughput.two.push(Math.round(both.reduce((sum, m) => sum + m.requests, 0) / ((performance.now() - started) / 1000)));
      }
      // What this machine allows at most, whatever the number of instances: its cores over the CPU a
      // login costs all told (server, PostgreSQL, and the load generator, which shares the cores).
      const loginCpuMs = median(oneInstance.map((m) => (m.cpuMsPerRequest ?? 0) + (m.postgresCpuMsPerRequest ?? 0) + (m.clientCpuMsPerRequest ?? 0)));
      results.scaleOut = {
        oneInstanceRequestsPerSecond: median(throughput.one),
        twoInstancesRequestsPerSecond: median(throughput.two),
        runs: throughput,
        loginCpuMs,
        cores: availableParallelism(),
        cpuBoundRequestsPerSecond: Math.round((availableParallelism() * 1000) / loginCpuMs),
      };
    }

    if (runs('mints')) {
      log('writes 3. token mints (createSessionToken as the session): writing the throttled event, and throttled');
      // Tokens that still authenticate: after the reads (npm run bench) some of their sessions are revoked.
      const sessionOfToken = await identitiesOfTokens(databaseUrl, population.tokens, 'id', { authenticating: true });
      const tokens = [...sessionOfToken.keys()];
      const tokenAt = (i: number) => tokens[i % tokens.length]!;
      const mintSpec = (offset: number): LoadSpec => ({
        port: ours.port,
        pid: ours.process.pid,
        path: '/graphql',
        body: (i) => ({ body: { query: mintMutation, variables: { id: `Session:${sessionOfToken.get(tokenAt(offset + i))}` } }, headers: { authorization: `Bearer ${tokenAt(offset + i)}` } }),
      });
      // Each round's event-writing mints go to sessions that have no token event yet; the throttled
      // ones mint again for sessions that just had theirs (this instance remembers; see docs).
      const batch = Math.min(requests, Math.floor(tokens.length / (rounds + 1)));
      await fixed(mintSpec(rounds * batch), batch);
      // Warm: PostGraphile's login when part 1 did not run.
      if (!results.login) await fixed(peerLoginSpec, Math.round(requests / 4));
      const mints = { writingEvent: [] as Measured[], throttled: [] as Measured[], peerLogin: [] as Measured[] };
      for (let round = 0; round < rounds; round++) {
        mints.writingEvent.push(await fixed(mintSpec(round * batch), batch));
        // The peer's login between the two, the same number of requests: each mint compares within its round.
        mints.peerLogin.push(await fixed(peerLoginSpec, batch));
        mints.throttled.push(await fixed(mintSpec(round * batch), batch));
      }
      results.tokenMint = {
        writingEvent: summary(mints.writingEvent),
        throttled: summary(mints.throttled),
        peerLogin: summary(mints.peerLogin),
        overPeerLogin: { writingEvent: overPeer(mints.writingEvent, mints.peerLogin), throttled: overPeer(mints.throttled, mints.peerLogin) },
      };
    }

    if (runs('revocation')) {
      log('writes 4. recordSessionActivity and signed revocations, on sessions logged in for them; PostGraphile\'s login after each confirmation round');
      // Warm: PostGraphile's login when part 1 did not run, our confirmations on set-up sessions of their own.
      if (!results.login) await fixed(peerLoginSpec, Math.round(requests / 4));
      const made = await keyedSessions(databaseUrl, signersElsewhere ? second.port : ours.port, identity, requests * rounds);
      // On an overloaded machine autocannon's 10 s timeout can fail every login of the set-up.
      if (made.length < requests) throw new Error(`only ${made.length} of ${requests * rounds} set-up logins answered; the machine is too loaded to go on`);
      const touchSpec = (offset: number): LoadSpec => ({
        ...oursLogin,
        body: (i) => ({ body: { query: touchMutation, variables: { input: { sessionId: made[(offset + i) % made.length]!.id, userAgent, ipAddress: `192.0.2.${(offset + i) % 7}` } } } }),
      });
      const activity: Measured[] = [];
      const revocation = { revoke: [] as Measured[], confirm: [] as Measured[], peerLogin: [] as Measured[] };
      for (let round = 0; round < rounds; round++) {
        activity.push(await fixed(touchSpec(round * requests)));
        const targets = made.slice(round * requests, (round + 1) * requests);
        const challenges: { requestId: string; payloadToSign: string }[] = [];
        revocation.revoke.push(
          await fixed({ ...oursLogin, body: (i) => (i < targets.length ? { body: { query: revokeMutation, variables: { id: targets[i]!.id } } } : undefined), onBody: (body) => {
            const challenge = JSON.parse(body).data?.revokeSession?.challenge;
            if (challenge) challenges.push(challenge);
          } }, targets.length),
        );
        const byTarget = new Map(targets.map((t) => [t.id, t.secretKey]));
        const signed = challenges.map((c) => {
          const payload = JSON.parse(Buffer.from(c.payloadToSign, 'base64').toString());
          return { r: c.requestId, s: Buffer.from(p256.sign(Buffer.from(c.payloadToSign, 'base64'), byTarget.get(payload.targetId)!, { lowS: false })).toString('base64') };
        });
        revocation.confirm.push(await fixed({ ...oursLogin, body: (i) => (i < signed.length ? { body: { query: confirmMutation, variables: signed[i] } } : undefined) }, signed.length));
        // The peer's login beside it, the same number of requests: the two compare within a round.
        revocation.peerLogin.push(await fixed(peerLoginSpec, signed.length));
      }
      results.recordSessionActivity = summary(activity);
      results.revocation = { revoke: summary(revocation.revoke), confirm: summary(revocation.confirm), peerLogin: summary(revocation.peerLogin), confirmOverPeerLogin: overPeer(revocation.confirm, revocation.peerLogin) };
    }
  } finally {
    await peer.stop();
    await second.stop();
    await resolvers.stop();
    await ours.stop();
  }
  return { results, table: writesTable(results) };
}

/** Sessions made through our login with a key each (compressed, so the client keeps it): for activity and revocations. */
async function keyedSessions(databaseUrl: string, port: number, identity: (i: number) => string, count: number): Promise<{ id: string; secretKey: Uint8Array }[]> {
  const made: { id: string; secretKey: Uint8Array }[] = [];
  const keys = Array.from({ length: count }, () => p256.utils.randomSecretKey());
  await load({
    port,
    path: '/graphql',
    headers: { authorization: admin },
    connections,
    amount: count,
    durationS: undefined,
    body: (i) => (i < count ? { body: { query: loginMutation, variables: loginInput(identity(i * 7 + 3), p256.Point.fromBytes(p256.getPublicKey(keys[i]!, true)).toHex(true)) } } : undefined),
    onBody: (body) => {
      const id = JSON.parse(body).data?.createSession?.session?.id;
      if (id) made.push({ id, secretKey: new Uint8Array() });
    },
  });
  // Responses arrive out of order: pair each session with its key by the public key stored for it.
  return pairKeys(databaseUrl, made, keys);
}

/** Which secret key belongs to which session: by the public key the database stored. */
async function pairKeys(databaseUrl: string, made: { id: string }[], keys: Uint8Array[]): Promise<{ id: string; secretKey: Uint8Array }[]> {
  const byPublic = new Map(keys.map((key) => [Buffer.from(p256.getPublicKey(key, true)).toString('hex'), key]));
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query<{ id: string; key: Buffer }>('SELECT id, signing_public_key AS key FROM sessions WHERE id = ANY($1::uuid[])', [made.map((m) => m.id.slice('Session:'.length))]);
    return rows.map((row) => ({ id: `Session:${row.id}`, secretKey: byPublic.get(row.key.toString('hex'))! }));
  } finally {
    await client.end();
  }
}

function writesTable(results: Record<string, any>): string {
  const ms = (value: number | undefined) => (value === undefined ? '' : value.toFixed(2));
  const row = (name: string, s: Summary | undefined) =>
    s ? `| ${name} | ${ms(s.cpuMsPerRequest)} | ${ms(s.postgresCpuMsPerRequest)} | ${Math.round(s.requestsPerSecond)} | ${ms(s.p99Ms)} | ${s.errors} | ${s.runs.map((r) => `${ms(r.cpuMsPerRequest)}/${ms(r.postgresCpuMsPerRequest)}`).join(', ')} |` : undefined;
  const login = results.login ?? {};
  const ratios = (values: number[]) => values.map((r) => `${r.toFixed(2)} ×`).join(', ');
  return [
    '',
    `## writes (${requests} requests a measurement at ${connections} connections, medians of ${rounds} interleaved rounds; a shared machine)`,
    '',
    '| write | server CPU ms/req | PostgreSQL CPU ms/req | req/s | p99 ms | errors | rounds (server/PostgreSQL CPU ms) |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- |',
    row('login: sessiongraph, planned', login.ours),
    row('login: PostGraphile 5, same three rows', login.peer),
    row('login: sessiongraph, resolvers (PLANNED_WRITES=false)', login.resolvers),
    row('token mint writing its event', results.tokenMint?.writingEvent),
    row('token mint, event throttled', results.tokenMint?.throttled),
    row('login: PostGraphile 5, beside each mint round', results.tokenMint?.peerLogin),
    row('revokeSession (signed, step 1)', results.revocation?.revoke),
    row('confirmRevocation (signed, step 2)', results.revocation?.confirm),
    row('recordSessionActivity', results.recordSessionActivity),
    row('login: PostGraphile 5, beside each confirmRevocation round', results.revocation?.peerLogin),
    '',
    results.tokenMint && `- token mints' server CPU over PostGraphile's login in the same round: writing the event ${ratios(results.tokenMint.overPeerLogin.writingEvent)}; throttled ${ratios(results.tokenMint.overPeerLogin.throttled)}`,
    results.revocation && `- confirmRevocation's server CPU over PostGraphile's login in the same round${signersElsewhere ? ' (signers logged in on the other instance)' : ''}: ${ratios(results.revocation.confirmOverPeerLogin)}`,
    results.login && `- login p99 at 64 connections (median of ${rounds} interleaved rounds after a warm one): sessiongraph ${ms(login.p99At64ConnectionsMs?.ours)} ms, PostGraphile ${ms(login.p99At64ConnectionsMs?.peer)} ms`,
    results.login && `- pg_locks during our logins: ${login.advisoryLockWaits?.samplesWithWaiters} of ${login.advisoryLockWaits?.samples} samples had a backend waiting for an advisory lock`,
    results.scaleOut && `- login throughput, one instance ${Math.round(results.scaleOut.oneInstanceRequestsPerSecond)} req/s, two instances ${Math.round(results.scaleOut.twoInstancesRequestsPerSecond)} req/s (${(results.scaleOut.twoInstancesRequestsPerSecond / results.scaleOut.oneInstanceRequestsPerSecond).toFixed(2)} ×); a login costs ${ms(results.scaleOut.loginCpuMs)} ms of CPU all told (server, PostgreSQL, load generator): ${results.scaleOut.cores} cores allow at most ${results.scaleOut.cpuBoundRequestsPerSecond} a second`,
    '',
  ].filter((line) => typeof line === 'string').join('\n');
}

async function main() {
  log('building the server (npm run build)');
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
  const databaseUrl = await freshDatabase();
  const seeding = await openDatabase({ kind: 'postgres', url: databaseUrl, poolSize, connectTimeoutMs: 5000 });
  await applyMigrations(seeding.adapterFactory);
  const population = await seed(seeding, { identities: quick ? 500 : plan.identities, revocations: 0 });
  await seeding.close();
  const { results, table } = await writeScenarios(databaseUrl, population);
  const out = join(root, 'bench/results/writes.json');
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ when: new Date().toISOString(), mode: quick ? 'quick' : 'full', ...results }, null, 2) + '\n');
  process.stdout.write(table);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exit(1);
  });
}
