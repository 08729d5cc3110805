"""The event store: streams and appends (store), catch-up-then-live
subscriptions, and the retention job."""
