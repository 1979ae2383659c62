-- An event's sequence is its writing transaction's id (xid8: 64-bit, epoch-extended, it never
-- wraps) times 2^20 plus its place among that transaction's events (a counter local to the
-- transaction). Readers deliver only below pg_snapshot_xmin(pg_current_snapshot()) times 2^20:
-- every transaction below that horizon has ended, so no event can still appear there, and no
-- writer takes a lock. Too many events in one transaction, or a transaction id past 2^43, is an
-- error (the multiplication checks for overflow), never a misordered number.
-- (Prisma's PostgreSQL adapter splits migrations at every semicolon: none inside statements.)
CREATE FUNCTION session_event_sequence() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN place < 1048576 THEN pg_current_xact_id()::text::bigint * 1048576 + place
              ELSE ('a transaction records at most 1048575 events, not ' || place)::bigint END
  FROM (SELECT set_config('sessiongraph.event_place', (coalesce(nullif(current_setting('sessiongraph.event_place', true), '')::bigint, 0) + 1)::text, true)::bigint AS place) counted
$$;

-- Existing events keep their numbers and their order, and every new one must sort after them: new
-- numbers start at the oldest running transaction's id times 2^20, far above any count of events.
SELECT CASE WHEN coalesce(max("sequence"), 0) < pg_snapshot_xmin(pg_current_snapshot())::text::bigint * 1048576 THEN 0
            ELSE ('session_events.sequence must be renumbered first, it reaches ' || max("sequence"))::bigint END
FROM "session_events";

ALTER TABLE "session_events" ALTER COLUMN "sequence" SET DEFAULT session_event_sequence();
DROP SEQUENCE "session_events_sequence_seq";
