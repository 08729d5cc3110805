-- The event readers skip events a range move copied onto a shard
-- (commerce migration 0009); the inventory keyspace has one shard and never
-- moves, but its events table has the column so that one reader serves both.
ALTER TABLE events ADD COLUMN moved_from integer;
