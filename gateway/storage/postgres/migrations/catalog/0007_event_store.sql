-- The catalog's writes append domain events (ProductCreated, ProductUpdated,
-- ProductPriceChanged, ProductDeleted on product-<sku>) in the transaction of
-- the change, so the catalog keyspace holds an event store of its own, like
-- commerce and inventory. shared/event_store.sql cannot be linked here: the
-- catalog had its idempotency_keys since 0001. These are its tables, with the
-- columns and indexes the other keyspaces gained later (moved_from, the
-- created_at BRIN index, the metadata index the retention job visits).

-- One row per stream: its current revision, so an append takes the next
-- revision with one row lock instead of a max() over the events.
CREATE TABLE streams (
    stream_id     text PRIMARY KEY,
    revision      bigint NOT NULL,               -- revision of the last event
    keyspace_id   bytea,                         -- routing key's id, for range moves
    metadata      jsonb NOT NULL DEFAULT '{}',   -- retention and delete markers
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now()
);

-- Domain events, appended in the same transaction as the change they record.
-- position orders events within the shard; tx_id is the writing transaction,
-- so a reader can stop below the oldest transaction still in flight
-- (pg_snapshot_xmin) and never skip an event that commits late.
CREATE TABLE events (
    position        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tx_id           xid8 NOT NULL DEFAULT pg_current_xact_id(),
    event_id        uuid NOT NULL UNIQUE,
    stream_id       text NOT NULL,
    stream_revision bigint NOT NULL,             -- 0 for a stream's first event
    event_type      text NOT NULL,
    payload         jsonb NOT NULL,
    metadata        jsonb NOT NULL,              -- trace_id, request_id, actor, saga_id
    keyspace_id     bytea,
    created_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (stream_id, stream_revision)
);
CREATE INDEX events_tx_position_idx ON events (tx_id, position);
CREATE INDEX events_type_idx ON events (event_type, position);
CREATE INDEX events_keyspace_id_idx ON events (keyspace_id);

-- The readers skip events a range move copied (commerce 0009); the catalog
-- has one shard and never moves, but one reader serves every keyspace.
ALTER TABLE events ADD COLUMN moved_from integer;
CREATE INDEX events_created_brin_idx ON events USING brin (created_at);
CREATE INDEX streams_with_metadata_idx ON streams (stream_id) WHERE metadata <> '{}'::jsonb;
