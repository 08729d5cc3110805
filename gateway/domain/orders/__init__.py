"""Orders: reads, lists and cancellation (service) and placement as a saga
across keyspaces (saga)."""
