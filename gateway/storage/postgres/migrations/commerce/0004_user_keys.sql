-- Per-user encryption keys for personal data in events (crypto-shredding).
-- An event never holds personal data in clear: it holds an AES-256-GCM
-- envelope sealed with its user's key (gateway/storage/eventstore/pii.py).
-- Erasing a user clears `key` and sets `erased_at`: every copy of every
-- envelope (events, backups, downstream stores) becomes unreadable at once,
-- and the row stays so that erased data reads as "erased", not "absent",
-- and no new personal data is sealed for that user id again.
-- Keys live on the user's shard, so sealing happens inside the writer's
-- one-shard transaction.
CREATE TABLE user_keys (
    user_id     text PRIMARY KEY,
    keyspace_id bytea NOT NULL,                -- the user's, for range moves
    key         bytea,                         -- 32 bytes; NULL once erased
    created_at  timestamptz NOT NULL DEFAULT now(),
    erased_at   timestamptz,
    CHECK ((key IS NULL) = (erased_at IS NOT NULL))
);
CREATE INDEX user_keys_keyspace_id_idx ON user_keys (keyspace_id);
