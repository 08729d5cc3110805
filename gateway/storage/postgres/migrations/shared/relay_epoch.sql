-- The relay's deduplication tokens name the batch's range and events. A
-- database restored to an earlier point relays the same ranges again after
-- the gateway removed their rows from ClickHouse (reconciliation after a
-- restore, docs/backup.md); under the old tokens ClickHouse would drop them
-- as repeats. Reconciliation gives the shard a new epoch, which every later
-- token carries ('' until the first restore: the tokens stay as they were).
ALTER TABLE relay_checkpoint ADD COLUMN epoch text NOT NULL DEFAULT '';
