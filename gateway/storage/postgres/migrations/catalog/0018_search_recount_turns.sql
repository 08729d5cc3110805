-- The vocabulary's recount (search_maintenance.py) reads every product, and
-- every gateway process runs the maintenance job: each one recounting on its
-- own schedule read a million products once per gateway per interval. The
-- one that claims a recount here, when the last is an interval old, does it
-- (search_words.claim_recount); the others skip theirs.
ALTER TABLE search_settings ADD COLUMN recounted_at timestamptz;
