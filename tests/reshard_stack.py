"""A stack for resharding tests: four commerce shard servers, two serving.

Shards 0 and 1 serve "-80" and "80-"; shards 2 and 3 are spares that
serve nothing until a workflow moves a range onto them. Gateways get the
stack's DSNs (not embedded mode: the test owns the servers).
"""

from __future__ import annotations

from pathlib import Path

from gateway.runtime.config import KeyspaceConfig
from gateway.runtime.embedded.backends import EmbeddedBackends
from gateway.storage.postgres.keyspace_id import KeyRange
from tests.embedded_stack import keyspaces_on

SERVING = (KeyRange.parse("-80"), KeyRange.parse("80-"), None, None)


async def reshard_keyspaces(stack: EmbeddedBackends) -> dict[str, KeyspaceConfig]:
    out = await keyspaces_on(stack)
    commerce = out["commerce"]
    out["commerce"] = KeyspaceConfig(commerce.name, commerce.shard_dsns, ranges=SERVING)
    return out


def start_stack(root: Path) -> EmbeddedBackends:
    stack = EmbeddedBackends(root, ephemeral=True, shards=4, supervise=False)
    stack.start()
    return stack
