-- How far the gateway has seen each PostgreSQL database get (docs/backup.md):
-- its system identifier, timeline and WAL position, recorded every few
-- seconds and at shutdown. A database found behind what is recorded here
-- (restored from a backup to an earlier point) makes the gateway reconcile
-- the other stores with it before it serves. A copy is kept in Redis too,
-- for the case where this database is the one restored.
CREATE TABLE store_watermarks (
    keyspace           text NOT NULL,
    shard              integer NOT NULL,
    system_identifier  text NOT NULL,
    timeline           integer NOT NULL,
    lsn                pg_lsn NOT NULL,
    seen_at            timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (keyspace, shard)
);

-- What each reconciliation found and did, and what it could not reconcile.
CREATE TABLE reconciliations (
    id            bigserial PRIMARY KEY,
    keyspace      text NOT NULL,
    shard         integer NOT NULL,
    reason        text NOT NULL,
    actions       jsonb NOT NULL,
    unreconciled  jsonb NOT NULL,
    done_at       timestamptz NOT NULL DEFAULT now()
);
