-- Age-based retention (inventory keeps its stock events 400 days by
-- default) looks for the oldest events. created_at grows with position
-- (events are appended), so a BRIN index finds them by reading a few block
-- ranges, and costs appends next to nothing. Commerce got the same index
-- in its 0008.
CREATE INDEX events_created_brin_idx ON events USING brin (created_at);
