-- AppendToStream as one function call (gateway/storage/eventstore/streams.py
-- append). Called in autocommit, the call is its own transaction: it begins
-- and commits inside the server with no client round trip in between, so it
-- holds back commit-safe readers (below pg_snapshot_xmin) only for its own
-- execution time. Appends with personal data call it twice inside one
-- transaction: first with p_insert false (lock and check), then, once the
-- payloads are sealed, with p_insert true.
--
-- result: 'appended'; 'allowed' (p_insert false and the append may go
-- ahead); 'existing' (some ids are stored: found_* say where, the caller
-- tells a retry from an overlap); 'tombstoned'; 'wrong_expected'.
-- last_revision and stream_metadata: the stream as it was before this call.
-- A call that neither appends nor may append leaves no stream row behind.
CREATE FUNCTION datagw_append(
    p_stream text, p_ksid bytea, p_expected text, p_expected_revision bigint,
    p_ids uuid[], p_types text[], p_payloads text[], p_metadata text[], p_insert boolean,
    OUT result text, OUT last_revision bigint, OUT stream_metadata text,
    OUT found_ids text[], OUT found_streams text[], OUT found_revisions bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    meta jsonb;
    created boolean := false;
    deleted boolean;
    tombstoned boolean;
    live boolean;
    holds boolean;
BEGIN
    IF p_expected NOT IN ('any', 'no_stream', 'stream_exists', 'exact') THEN
        RAISE EXCEPTION 'datagw_append: unknown expected revision kind %', p_expected;
    END IF;
    -- Writes to one stream serialise on its row; stream rows are never
    -- deleted once committed, so the loop ends after an insert lost to a
    -- concurrent one (which ON CONFLICT waited for).
    LOOP
        SELECT s.revision, s.metadata INTO last_revision, meta
        FROM streams s WHERE s.stream_id = p_stream FOR UPDATE;
        EXIT WHEN FOUND;
        INSERT INTO streams AS s (stream_id, revision, keyspace_id) VALUES (p_stream, -1, p_ksid)
        ON CONFLICT (stream_id) DO NOTHING RETURNING s.revision, s.metadata INTO last_revision, meta;
        created := FOUND;
        EXIT WHEN FOUND;
    END LOOP;
    -- A new statement, so a new snapshot taken with the lock held: ids
    -- committed by an append that held the lock before us are seen.
    SELECT array_agg(e.event_id::text), array_agg(e.stream_id), array_agg(e.stream_revision)
    INTO found_ids, found_streams, found_revisions
    FROM events e WHERE e.event_id = ANY (p_ids);
    stream_metadata := meta::text;
    -- streams.py StreamMetadata.from_json, StreamState.live, Expected.holds:
    -- a soft-deleted stream counts as absent, yet exact accepts its last
    -- revision since an append continues from it.
    deleted := coalesce((meta ->> 'deleted')::boolean, false);
    tombstoned := coalesce((meta ->> 'tombstoned')::boolean, false);
    live := last_revision >= 0 AND NOT deleted AND NOT tombstoned;
    holds := CASE p_expected
        WHEN 'no_stream' THEN NOT live
        WHEN 'stream_exists' THEN live
        WHEN 'exact' THEN last_revision >= 0 AND last_revision = p_expected_revision
        ELSE true END;
    result := CASE
        WHEN found_ids IS NOT NULL THEN 'existing'
        WHEN tombstoned THEN 'tombstoned'
        WHEN NOT holds THEN 'wrong_expected'
        WHEN NOT p_insert THEN 'allowed'
        ELSE 'appended' END;
    IF result = 'appended' THEN
        INSERT INTO events (event_id, stream_id, stream_revision, event_type, payload, metadata,
                            keyspace_id)
        SELECT e.id, p_stream, last_revision + e.n, e.type, e.payload::jsonb, e.metadata::jsonb,
               p_ksid
        FROM unnest(p_ids, p_types, p_payloads, p_metadata)
             WITH ORDINALITY AS e(id, type, payload, metadata, n);
        -- A soft-deleted stream comes back with this append; its old events
        -- stay hidden (truncate_before is kept).
        UPDATE streams s
        SET revision = last_revision + cardinality(p_ids),
            metadata = CASE WHEN deleted THEN s.metadata || '{"deleted": false}'::jsonb
                            ELSE s.metadata END,
            updated_at = now()
        WHERE s.stream_id = p_stream;
    ELSIF created AND result <> 'allowed' THEN
        -- As a rolled-back transaction would: no row for a stream that
        -- still has no event and was never configured.
        DELETE FROM streams s WHERE s.stream_id = p_stream;
    END IF;
END
$$;
