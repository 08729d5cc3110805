-- The relay's progress toward ClickHouse on this shard: one row, stored
-- next to the events it describes so a shard's relay depends on nothing but
-- that shard (docs/relay.md).
--
-- (commit, position): the last event relayed, in the commit-safe order of
-- the event log (tx_id, position). Every event at or below it is in
-- ClickHouse; the retention job never deletes an event above it.
-- (pending_commit, pending_position): set while a batch is being inserted,
-- the batch being the events after (commit, position) up to and including
-- this point. A relay that finds it set re-reads exactly that range and
-- re-inserts it under the same deduplication tokens before anything else.
CREATE TABLE relay_checkpoint (
    singleton         boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    commit            bigint NOT NULL DEFAULT 0,
    position          bigint NOT NULL DEFAULT 0,
    pending_commit    bigint,
    pending_position  bigint,
    events_relayed    bigint NOT NULL DEFAULT 0,
    last_batch_at     timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((pending_commit IS NULL) = (pending_position IS NULL))
);
INSERT INTO relay_checkpoint DEFAULT VALUES;

-- Order lines keep the product's category as it was when the order was
-- priced (like its title and price), so a cancellation's event can repeat
-- it and analytics nets the cancellation out in the same category. Only the
-- commerce keyspace has order lines; elsewhere this is a no-op.
ALTER TABLE IF EXISTS order_items ADD COLUMN category text NOT NULL DEFAULT '';
