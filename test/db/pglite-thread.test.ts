import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { PGlite, messages, type Results } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPGliteThread, type PGliteClient } from '../../src/db/pglite-thread.js';
import { buildTemplate, packedTemplate } from '../../src/db/pglite-template.js';
import { projectRoot } from '../../src/paths.js';
import { temporaryDirectories } from '../support/temp-dirs.js';

const tempDir = temporaryDirectories('pglite-thread');

// The thread's client must answer as PGlite on this thread does: every case runs on both and the
// answers are compared (values, fields, counts, errors).
const setup = `
  CREATE TABLE t (id int PRIMARY KEY, name text UNIQUE, tags text[], born timestamptz, day date, amount numeric,
    big bigint, blob bytea, doc jsonb, ok boolean, ids uuid[], ratio float8);
  INSERT INTO t VALUES (1, 'one', '{a,"b c",NULL}', '2026-12-03T10:00:00.123Z', '2026-02-28', 12.50, 9007199254740993,
    '\\x00ff10', '{"k": [1, "x", null]}', true, '{6f1c1a2e-0000-4000-8000-000000000001}', 0.25),
    (2, NULL, '{}', NULL, NULL, NULL, NULL, NULL, 'null', false, NULL, 'NaN');
`;

let local: PGlite;
let threaded: PGliteClient;

beforeAll(async () => {
  local = await PGlite.create();
  threaded = await startPGliteThread({ settings: [] }).open({});
  await local.exec(setup);
  await threaded.exec(setup);
});

afterAll(async () => {
  await local.close();
  await threaded.close();
});

/** What a call answered: its value, or the error's class and fields. */
async function outcome(run: (db: PGliteClient) => Promise<unknown>, db: PGliteClient): Promise<unknown> {
  try {
    return { value: await run(db) };
  } catch (error) {
    const { query, params, queryOptions, ...fields } = error as Record<string, unknown>;
    void params;
    void queryOptions;
    return { error: (error as Error).message, databaseError: error instanceof messages.DatabaseError, query, fields };
  }
}

async function same(run: (db: PGliteClient) => Promise<unknown>): Promise<unknown> {
  const expected = await outcome(run, local);
  expect(await outcome(run, threaded)).toEqual(expected);
  return expected;
}

describe("the embedded database's thread", () => {
  it('parses every column type as PGlite does, as objects and as arrays', async () => {
    const answer = (await same((db) => db.query('SELECT * FROM t ORDER BY id'))) as { value: Results };
    expect(answer.value.rows).toHaveLength(2);
    await same((db) => db.query('SELECT * FROM t WHERE id = $1', [1], { rowMode: 'array' }));
    await same((db) => db.query('SELECT $1::int[] AS a, $2::jsonb AS j, $3::bytea AS b, $4::timestamptz AS d', [[1, 2], { x: 1 }, new Uint8Array([1, 2]), new Date(0)]));
    // box[] is the one array type whose elements PostgreSQL separates with ';'.
    await same((db) => db.query("SELECT '{(1,1),(0,0);(3,3),(2,2)}'::box[] AS boxes, '{{1,2},{3,NULL}}'::int8[] AS grid"));
  });

  it("uses the caller's parsers over PGlite's, as the Prisma adapter gives them", async () => {
    const parsers = { 1184: (value: string) => `time:${value}`, 25: (value: string) => value.toUpperCase() };
    await same((db) => db.query('SELECT name, born, tags FROM t ORDER BY id', [], { rowMode: 'array', parsers }));
  });

  it('counts what a statement changed, and exec answers each statement', async () => {
    await same((db) => db.query('UPDATE t SET ok = ok WHERE id > $1', [0]));
    await same((db) => db.exec('SELECT 1 AS a; SELECT 2 AS b, 3 AS c; UPDATE t SET ok = ok'));
  });

  it('throws the same DatabaseError, with its code, detail and constraint', async () => {
    const answer = (await same((db) => db.query("INSERT INTO t (id, name) VALUES (3, 'one')"))) as { databaseError: boolean; fields: { code: string } };
    expect(answer.databaseError).toBe(true);
    expect(answer.fields.code).toBe('23505');
    await same((db) => db.query('SELECT nope FROM t'));
    await same((db) => db.exec('SELECT 1/0'));
  });

  it('commits a transaction, rolls one back when its work throws, and on an explicit rollback', async () => {
    await same((db) => db.transaction(async (tx) => (await tx.query("INSERT INTO t (id, name) VALUES (10, 'ten') RETURNING id")).rows));
    await same((db) =>
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO t (id, name) VALUES (11, 'eleven')");
        throw new Error('changed my mind');
      }),
    );
    await same((db) =>
      db.transaction(async (tx) => {
        await tx.query("INSERT INTO t (id, name) VALUES (12, 'twelve')");
        await tx.rollback();
        return tx.closed;
      }),
    );
    await same((db) => db.query('SELECT id FROM t ORDER BY id'));
  });

  it('reports a failed commit, and a statement after the transaction closed', async () => {
    const deferred = `CREATE TABLE d (id int, CONSTRAINT d_unique UNIQUE (id) DEFERRABLE INITIALLY DEFERRED)`;
    await local.exec(deferred);
    await threaded.exec(deferred);
    await same((db) =>
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO d VALUES (1), (1)');
      }),
    );
    await same(async (db) => {
      let kept: { query: (sql: string) => Promise<unknown> } | undefined;
      await db.transaction(async (tx) => void (kept = tx));
      return kept!.query('SELECT 1');
    });
  });

  it("keeps other statements waiting while a transaction is open, as PGlite's one connection does", async () => {
    const order: string[] = [];
    let inside!: () => void;
    const entered = new Promise<void>((resolve) => (inside = resolve));
    const transaction = threaded.transaction(async (tx) => {
      inside();
      await new Promise((wait) => setTimeout(wait, 50));
      await tx.query('SELECT 1');
      order.push('transaction');
    });
    await entered;
    const outside = threaded.query('SELECT 1').then(() => order.push('outside'));
    await Promise.all([transaction, outside]);
    expect(order).toEqual(['transaction', 'outside']);
  });

  it('copies rows from a blob', async () => {
    const copy = 'CREATE TABLE c (id int, note text)';
    await local.exec(copy);
    await threaded.exec(copy);
    await same((db) => db.query("COPY c FROM '/dev/blob'", [], { blob: new Blob(['1\tfirst\n2\t\\N\n']) }));
    await same((db) => db.query('SELECT * FROM c ORDER BY id'));
  });

  it('refuses the options it cannot honour instead of dropping them', async () => {
    await expect(threaded.query('SELECT $1', [1], { paramTypes: [23] })).rejects.toThrow('neither serializers nor paramTypes');
    await expect(threaded.query('SELECT $1', [1], { serializers: { 23: String } })).rejects.toThrow('neither serializers nor paramTypes');
    await expect(threaded.exec("COPY c FROM '/dev/blob'", { blob: new Blob(['3\tthird\n']) })).rejects.toThrow('with query() alone');
  });

  it("makes a new directory from the template's spare copy and the spare again, also where an ended start left none", async () => {
    await buildTemplate();
    const template = packedTemplate()!;
    const cache = await tempDir();
    const spare = join(cache, 'template.spare');
    mkdirSync(join(cache, `template.spare.${2 ** 22 + 1}.1.partial`)); // a copy an ended process left
    const openAndClose = async (name: string) => {
      const db = await startPGliteThread({ directory: join(cache, name), settings: [], template, spare }).open({});
      expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations')).rows[0]!.n).toBeGreaterThan(0);
      await db.close(); // waits for the spare
    };
    // No spare (a start took it and was killed before making it again): the template unpacked, then the spare made.
    await openAndClose('first');
    expect(readdirSync(cache).sort()).toEqual(['first', 'template.spare']);
    // The spare taken by renaming (what it holds comes along), and made again.
    writeFileSync(join(spare, 'marker'), '');
    await openAndClose('second');
    expect(existsSync(join(cache, 'second/marker'))).toBe(true);
    expect(readdirSync(cache).sort()).toEqual(['first', 'second', 'template.spare']);
    expect(existsSync(join(spare, 'marker'))).toBe(false);
  });

  it('says why when the spare copy cannot be made, and opens the new directory all the same', async () => {
    await buildTemplate();
    const cache = await tempDir();
    const spare = join(cache, 'no-such-folder', 'template.spare');
    const thread = startPGliteThread({ directory: join(cache, 'data'), settings: [], template: packedTemplate()!, spare });
    const warnings: { message: string; error: string }[] = [];
    thread.onWarning((warning) => warnings.push(warning));
    const db = await thread.open({});
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM _prisma_migrations')).rows[0]!.n).toBeGreaterThan(0);
    await db.close(); // waits for the spare's thread
    expect(warnings).toEqual([{ message: `the template's spare copy could not be made at ${spare}: a new data directory is unpacked instead (slower)`, error: expect.stringContaining('ENOENT') }]);
  });

  it('refuses every call once closed, naming why', async () => {
    const client = await startPGliteThread({ settings: [] }).open({});
    await client.close();
    await client.close(); // twice is harmless
    await expect(client.query('SELECT 1')).rejects.toThrow('the embedded database is closed');
  });

  it('keeps a process alive while it waits for an answer or for the database to close, and not after', async () => {
    // Nothing else holds this process's event loop: without the thread held, it would end mid-close.
    const script = `
      import { startPGliteThread } from './src/db/pglite-thread.ts';
      const db = await startPGliteThread({ settings: [] }).open({});
      console.log((await db.query('SELECT 41 + 1 AS answer')).rows[0].answer);
      await db.close();
      console.log('closed');
    `;
    const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], { cwd: projectRoot });
    expect(stdout.trim().split('\n')).toEqual(['42', 'closed']);
    // Left open and idle, after a parameter that could not cross (refused at once): the process ends.
    const idle = `
      import { startPGliteThread } from './src/db/pglite-thread.ts';
      const db = await startPGliteThread({ settings: [] }).open({});
      await db.query('SELECT $1::text', [Symbol('x')]).catch((error) => console.log(error.name));
    `;
    const ended = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', idle], { cwd: projectRoot, timeout: 20_000 });
    expect(ended.stdout.trim()).toBe('DataCloneError');
  });

  it('fails to open with PGlite\'s reason', async () => {
    const thread = startPGliteThread({ settings: ['shared_buffers=not-a-size'] });
    await expect(thread.open({})).rejects.toThrow();
  });
});
