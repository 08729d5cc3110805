-- The retention job removes finished sagas past retention.finished_sagas
-- (orders policy) in batches, and verify counts them: both find them by age
-- among the finished ones, without reading the whole table.
CREATE INDEX sagas_finished_idx ON sagas (updated_at) WHERE state IN ('completed', 'compensated');
