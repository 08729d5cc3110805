"""The event store on the shards: append, read, subscribe (DESIGN section 7)."""
