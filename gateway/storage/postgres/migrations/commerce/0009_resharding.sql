-- Resharding on each commerce shard (docs/resharding.md): what the shard
-- owns, the fence that refuses writes of anything else, and the capture of
-- a moving range's changes.

-- This server's place in its keyspace, written when a gateway first opens
-- it: a gateway whose config names it as another shard refuses to start.
CREATE TABLE shard_identity (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    keyspace    text NOT NULL,
    shard       integer NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

-- The keyspace-id ranges this shard owns. end_ksid NULL: to the end of the
-- space (8 bytes cannot hold it). A frozen range is being cut over: its
-- writes are refused until the cutover ends. capture names the workflow
-- that records the range's changes for the other shard.
CREATE TABLE shard_ranges (
    start_ksid   bytea PRIMARY KEY,
    end_ksid     bytea,
    state        text NOT NULL DEFAULT 'owned' CHECK (state IN ('owned', 'frozen')),
    capture      text,
    map_version  bigint NOT NULL,
    updated_at   timestamptz NOT NULL DEFAULT now()
);

-- The captured changes: which row of which table, in the order they were
-- made. The copier re-reads the row and applies its state, so an entry
-- applied twice changes nothing; applied entries are deleted.
CREATE TABLE reshard_changes (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    workflow    text NOT NULL,
    table_name  text NOT NULL,
    row_key     jsonb NOT NULL
);

-- An event copied here from another shard by a move (its shard): readers of
-- the whole log ($all, the relay, the catalog's projections) skip it, since
-- they had it from that shard already; readers of a stream see it.
ALTER TABLE events ADD COLUMN moved_from integer;

-- Idempotency records move with their user's range. Records written before
-- this migration have none and stay where they are.
ALTER TABLE idempotency_keys ADD COLUMN keyspace_id bytea;
CREATE INDEX idempotency_keys_keyspace_id_idx ON idempotency_keys (keyspace_id);

-- The fence and the capture, on every table whose rows belong to a range.
-- TG_ARGV: the columns that identify a row on any shard.
CREATE FUNCTION datagw_fence() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ksid   bytea;
    owned  shard_ranges%ROWTYPE;
    rec    jsonb;
BEGIN
    IF TG_OP = 'DELETE' THEN
        ksid := OLD.keyspace_id;
    ELSE
        ksid := NEW.keyspace_id;
    END IF;
    IF ksid IS NULL THEN
        RETURN NULL;
    END IF;
    -- A write takes this lock (shared) and holds it to its commit; a cutover
    -- takes it exclusively to freeze a range, so it waits for every write
    -- that passed here and no write slips past the freeze. The copier of a
    -- workflow sets datagw.fence = 'off': it writes ranges not yet owned.
    IF TG_OP <> 'DELETE' AND current_setting('datagw.fence', true) IS DISTINCT FROM 'off' THEN
        PERFORM pg_advisory_xact_lock_shared(7234017283807667969);
    END IF;
    SELECT * INTO owned FROM shard_ranges
        WHERE start_ksid <= ksid AND (end_ksid IS NULL OR ksid < end_ksid);
    IF TG_OP <> 'DELETE' AND current_setting('datagw.fence', true) IS DISTINCT FROM 'off' THEN
        IF NOT FOUND THEN
            RAISE EXCEPTION 'keyspace id % is not in a range this shard owns', encode(ksid, 'hex')
                USING ERRCODE = 'DGR01';
        ELSIF owned.state = 'frozen' THEN
            RAISE EXCEPTION 'keyspace id % is in a range being cut over', encode(ksid, 'hex')
                USING ERRCODE = 'DGR02';
        END IF;
    END IF;
    IF FOUND AND owned.capture IS NOT NULL THEN
        IF TG_OP = 'DELETE' THEN
            rec := to_jsonb(OLD);
        ELSE
            rec := to_jsonb(NEW);
        END IF;
        INSERT INTO reshard_changes (workflow, table_name, row_key)
        SELECT owned.capture, TG_TABLE_NAME, jsonb_object_agg(k, rec -> k)
        FROM unnest(TG_ARGV) AS k;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER users_fence AFTER INSERT OR UPDATE OR DELETE ON users
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('user_id');
CREATE TRIGGER user_emails_fence AFTER INSERT OR UPDATE OR DELETE ON user_emails
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('email');
CREATE TRIGGER user_keys_fence AFTER INSERT OR UPDATE OR DELETE ON user_keys
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('user_id');
CREATE TRIGGER orders_fence AFTER INSERT OR UPDATE OR DELETE ON orders
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('order_id');
CREATE TRIGGER order_items_fence AFTER INSERT OR UPDATE OR DELETE ON order_items
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('order_id', 'line');
CREATE TRIGGER payments_fence AFTER INSERT OR UPDATE OR DELETE ON payments
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('payment_id');
CREATE TRIGGER sagas_fence AFTER INSERT OR UPDATE OR DELETE ON sagas
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('saga_id');
CREATE TRIGGER streams_fence AFTER INSERT OR UPDATE OR DELETE ON streams
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('stream_id');
CREATE TRIGGER events_fence AFTER INSERT OR UPDATE OR DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('event_id');
CREATE TRIGGER idempotency_keys_fence AFTER INSERT OR UPDATE OR DELETE ON idempotency_keys
    FOR EACH ROW EXECUTE FUNCTION datagw_fence('request_id');
