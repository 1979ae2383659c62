// Samples pg_locks while a scenario runs and counts the locks writers waited for: the goal for
// writes of different identities is no wait at all on a lock every writer takes (issue 25).
//   advisory     an advisory lock
//   notify       PostgreSQL's NOTIFY queue lock, taken at the commit of every transaction that notifies
//   transaction  a row another transaction holds (writers of one identity or one session meet here)
//   other        anything else
// Only backends connected to the benchmark's database count (the server may be shared).
// `samples` is how many times pg_locks was read; each kind counts the samples in which at least
// one backend waited for such a lock (the "810 samples" figure).
import pg from 'pg';

export interface LockWaits {
  samples: number;
  advisory: number;
  notify: number;
  transaction: number;
  other: number;
}

const waitingSql = `
  SELECT count(*) FILTER (WHERE l.locktype = 'advisory') AS advisory,
         count(*) FILTER (WHERE l.locktype = 'object' AND l.classid = 'pg_database'::regclass AND l.objid = 0) AS notify,
         count(*) FILTER (WHERE l.locktype IN ('transactionid', 'tuple')) AS transaction,
         count(*) AS waiting
    FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
   WHERE NOT l.granted AND a.datname = current_database()`;

/**
 * Reads pg_locks every `intervalMs` on a connection of its own until `stop()`, which resolves
 * with the counts. Sampling costs PostgreSQL a little CPU: measure CPU in a run without it.
 */
export async function sampleLockWaits(databaseUrl: string, intervalMs = 10): Promise<{ stop(): Promise<LockWaits> }> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const counts: LockWaits = { samples: 0, advisory: 0, notify: 0, transaction: 0, other: 0 };
  let stopping = false;
  const sampling = (async () => {
    while (!stopping) {
      const { rows } = await client.query<Record<'advisory' | 'notify' | 'transaction' | 'waiting', string>>(waitingSql);
      const row = rows[0]!;
      const [advisory, notify, transaction, waiting] = [row.advisory, row.notify, row.transaction, row.waiting].map(Number) as [number, number, number, number];
      counts.samples++;
      if (advisory > 0) counts.advisory++;
      if (notify > 0) counts.notify++;
      if (transaction > 0) counts.transaction++;
      if (waiting > advisory + notify + transaction) counts.other++;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  })();
  return {
    async stop() {
      stopping = true;
      try {
        await sampling;
      } finally {
        await client.end();
      }
      return counts;
    },
  };
}

/** Runs `scenario` while sampling; its result and the lock waits seen meanwhile. */
export async function withLockWaits<T>(databaseUrl: string, scenario: () => Promise<T>, intervalMs = 10): Promise<{ result: T; lockWaits: LockWaits }> {
  const sampler = await sampleLockWaits(databaseUrl, intervalMs);
  const result = await scenario().catch(async (error: unknown) => {
    await sampler.stop();
    throw error;
  });
  return { result, lockWaits: await sampler.stop() };
}
