"""Analytics on ClickHouse: reports, behaviour-event ingest, guarded queries,
the relay of domain events and the erasure of analytics rows."""
