-- The bookkeeping of projections (docs/projections.md), in every keyspace that
-- holds a read model: commerce (on each shard) and catalog.
-- A read model is a set of tables per generation (<name>_g<N>); readers go
-- through a view named after the projection, which a rebuild repoints at the
-- next generation in one transaction. The checkpoint of each source shard
-- sits next to the read model, so a batch and its checkpoint commit together.

-- The generation readers see, per projection.
CREATE TABLE projection_generations (
    projection  text PRIMARY KEY,
    generation  bigint NOT NULL,
    swapped_at  timestamptz NOT NULL DEFAULT now()
);

-- Where each generation of a projection stands on each source shard: after
-- event (commit, position) in that shard's commit order (log.Cursor).
CREATE TABLE projection_checkpoints (
    projection      text NOT NULL,
    generation      bigint NOT NULL,
    source_keyspace text NOT NULL,
    shard           integer NOT NULL,
    commit          bigint NOT NULL DEFAULT 0,
    position        bigint NOT NULL DEFAULT 0,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    last_batch_at   timestamptz,                 -- the last batch applied
    last_error      text NOT NULL DEFAULT '',    -- '' once a batch succeeds again
    PRIMARY KEY (projection, generation, source_keyspace, shard)
);
