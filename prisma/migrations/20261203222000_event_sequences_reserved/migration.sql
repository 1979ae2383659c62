-- session_event_sequences(n) takes n consecutive places of the transaction's event counter at
-- once (the counter session_event_sequence() advances one a row) and returns the first one's
-- sequence: the transaction's id times 2^20 plus that place. A writer that knows how many events it
-- writes (the embedded database's import, which copies tens of thousands) numbers them itself
-- instead of calling the column's default once a row. The numbers are the ones the default would
-- have given, from the same transaction id and the same counter, so readers' horizon stays what it
-- was (docs/events.md). Past 1048575 events in one transaction, or fewer than one, is an error.
-- (Prisma's PostgreSQL adapter splits migrations at every semicolon: none inside statements.)
CREATE FUNCTION session_event_sequences(events integer) RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT CASE WHEN events >= 1 AND last < 1048576 THEN pg_current_xact_id()::text::bigint * 1048576 + last - events + 1
              WHEN events < 1 THEN ('reserve at least one event sequence, not ' || events)::bigint
              ELSE ('a transaction records at most 1048575 events, not ' || last)::bigint END
  FROM (SELECT set_config('sessiongraph.event_place', (coalesce(nullif(current_setting('sessiongraph.event_place', true), '')::bigint, 0) + events)::text, true)::bigint AS last) counted
$$;
