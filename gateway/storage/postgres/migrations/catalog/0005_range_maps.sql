-- The control tables of resharding (docs/resharding.md). They live in the
-- catalog keyspace's database because every gateway reaches it, whatever
-- shards it routes to.

-- The range map of each sharded keyspace: which shard serves each range of
-- keyspace ids. Every gateway routes by the newest version it has read, and
-- learns a new one from the notification below or its poll.
CREATE TABLE range_maps (
    keyspace    text PRIMARY KEY,
    version     bigint NOT NULL CHECK (version > 0),
    ranges      jsonb NOT NULL,              -- [{"range": "-80", "shard": 0}, ...] in key order
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION datagw_notify_range_map() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('datagw_range_map', NEW.keyspace);
    RETURN NULL;
END
$$;

CREATE TRIGGER range_maps_notify AFTER INSERT OR UPDATE ON range_maps
    FOR EACH ROW EXECUTE FUNCTION datagw_notify_range_map();

-- Resharding workflows: one range moving from one shard to another. phase
-- is where it stands (records/resharding.py); requested, what the operator
-- asked of it last; the lease keeps one gateway at a time driving it.
CREATE TABLE reshard_workflows (
    workflow     text PRIMARY KEY,
    keyspace     text NOT NULL,
    key_range    text NOT NULL,
    source       integer NOT NULL,
    target       integer NOT NULL CHECK (target <> source),
    phase        text NOT NULL,
    requested    text NOT NULL DEFAULT '',
    detail       jsonb NOT NULL DEFAULT '{}',
    error        text NOT NULL DEFAULT '',
    lease_owner  text NOT NULL DEFAULT '',
    lease_until  timestamptz NOT NULL DEFAULT now(),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now()
);
-- One workflow at a time per keyspace until it is cleaned up or cancelled.
CREATE UNIQUE INDEX reshard_workflows_one_active ON reshard_workflows (keyspace)
    WHERE phase NOT IN ('done', 'cancelled');
