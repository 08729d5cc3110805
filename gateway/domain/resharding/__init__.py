"""Resharding: moving ranges of keyspace ids between shards online."""
